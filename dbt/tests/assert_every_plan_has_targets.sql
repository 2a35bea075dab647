-- Every plan in the catalog carries at least one target: a plan without targets means a catalog
-- file lost its targets list.
with plans as (
    select * from {{ ref('dim_plan') }}
)

select plan_id
from plans
where target_count = 0
