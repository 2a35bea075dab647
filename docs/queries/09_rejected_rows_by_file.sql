-- Which files had rows rejected, and why?
-- 哪些文件有数据被拒收？原因是什么？
select
    m.source_file,
    m.status,
    m.rows_in,
    m.rows_loaded,
    m.rows_quarantined,
    q.reason_code,
    q.reason
from raw.file_manifest as m
left join dq.quarantine as q
    on m.source_file = q.source_file and m.file_sha256 = q.file_sha256
where m.status <> 'loaded'
order by m.source_file, q.source_row
