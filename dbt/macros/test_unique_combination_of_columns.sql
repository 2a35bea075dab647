{#-
    Generic test: no two rows share the values of `columns` (dbt_utils' unique_combination_of_columns,
    written here so the project installs no dbt package from outside the Python registries).
-#}
{% test unique_combination_of_columns(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
