with source as (
    select * from {{ source('raw', 'actions') }}
),

renamed as (
    select
        action_id,
        plan_id,
        seq as action_seq,
        kind as action_kind,
        name_zh,
        name_en,
        note,
        source_file,
        source_path
    from source
)

select * from renamed
