-- How has technology contract turnover moved, month by month, in each city (亿元)?
-- 各城市技术合同成交额月度走势。Year-to-date (累计) reports are turned into monthly values.
with monthly as (
    select
        geo_id,
        period_end,
        case
            when basis = 'ytd' and month(period_end) > 1
                then value - lag(value) over (
                    partition by geo_id, year(period_end), basis order by period_end
                )
            else value
        end as month_value
    from marts.fct_actual
    where
        indicator_id = 'tech_contract_turnover'
        and (period_grain = 'month' or (basis = 'ytd' and period_grain in ('month', 'range')))
)

select
    g.name_zh as city_zh,
    strftime(m.period_end, '%Y-%m') as month,
    round(m.month_value, 2) as turnover_100m_yuan
from monthly as m
inner join marts.dim_geography as g on m.geo_id = g.geo_id
where m.month_value is not null
order by g.name_zh, m.period_end
