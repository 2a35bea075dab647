{#- Data tests on an incremental build look at what the build rebuilt (docs/performance.md).

    dbt's documented hook for a test's `where` config. Two placeholders, replaced at run time:
    `__rebuilt_pairs__`, the geography × indicator pairs with a report loaded since the last
    complete build (macros/incremental.sql: the rows an incremental model deleted and appended), and
    `__loaded_since__`, the progress rows loaded since then. On a full refresh both mean every row.
    A test given one must be one whose failures cannot come from rows outside it: a uniqueness key
    that includes geo_id and indicator_id, on a model that rebuilds whole pairs; a key of source
    rows, which are only ever added.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {%- set where = where | replace('__rebuilt_pairs__', 'true') | replace('__loaded_since__', 'true') -%}
    {%- else -%}
        {#- The pipeline's state is read directly, not through ref() or source(): dbt records a
            test's dependencies when it parses, where this branch is not taken. The pairs are the
            ones the incremental models rebuilt (incremental.sql reads the same table). -#}
        {%- set since -%}
            (select coalesce(max(changed_since), '-infinity'::timestamptz) from dq.dbt_build_plan)
        {%- endset -%}
        {%- set rebuilt_pairs -%}
            exists (
                select 1 from dq.dbt_build_pairs as rebuilt
                where rebuilt.geo_id = tested.geo_id
                    and rebuilt.indicator_id = tested.indicator_id
            )
        {%- endset -%}
        {%- set loaded_since -%}
            tested.loaded_at > {{ since }}
        {%- endset -%}
        {%- set where = where | replace('__rebuilt_pairs__', rebuilt_pairs) | replace('__loaded_since__', loaded_since) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} as tested where {{ where }}) as dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}
