select
    null as actual,
    null as expected
