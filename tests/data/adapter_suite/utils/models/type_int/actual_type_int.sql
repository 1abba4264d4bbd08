select cast('12345678' as {{ type_int() }}) as int_col
