select {{ string_literal("abc") }} as actual, 'abc' as expected union all
select {{ string_literal("1") }} as actual, '1' as expected union all
select {{ string_literal("") }} as actual, '' as expected union all
select {{ string_literal(none) }} as actual, 'None' as expected
