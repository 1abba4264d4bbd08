select cast('True' as {{ type_boolean() }}) as boolean_col
