/*---
id: work_order_step_days
description:
  zh: "业扩各限时环节的用时：每个工单的供电方案答复、设计审查、中间检查、竣工检验、装表接电环节，从起点到完成所经过的工作日（国家法定节假日及调休日历，起始日不计）。起点按环节不同：方案答复从受理时间起；设计审查、中间检查、竣工检验从本环节开始时间起，缺失时取前一环节完成时间；装表接电从竣工检验与合同签订两者较晚的完成时间起。缺少起点的环节不列出。各环节超时限规则共用，每次运行只算一次。"
  en: "Time taken by each time-limited step of a connection order (plan reply, design review, mid-check, completion acceptance, energizing): working days from the step's start to its finish (official Chinese calendar with make-up working days; the start day not counted). The start depends on the step: the plan reply counts from acceptance; design review, mid-check and completion from the step's own start, or the previous step's finish when missing; energizing from the later of completion acceptance and contract signing. Steps with no start are left out. Shared by the step-overdue rules and computed once per run."
tables: [work_orders, work_order_steps]
lookback: {days: 0}  # reads work orders and their steps, which are never windowed
---*/
WITH cal AS (
  SELECT day,
         SUM(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS wd_idx
  FROM workday_calendar
),
-- one row per timed step: where its clock starts (data, not code: a new timed step is one more row)
timed_step AS (
  SELECT 'plan_replied' AS step, CAST(NULL AS VARCHAR) AS prev1, CAST(NULL AS VARCHAR) AS prev2, 'accepted' AS start_from
  UNION ALL SELECT 'design_reviewed', 'plan_replied', NULL, 'started_or_previous'
  UNION ALL SELECT 'mid_checked', 'design_reviewed', NULL, 'started_or_previous'
  UNION ALL SELECT 'completion_checked', 'mid_checked', 'design_reviewed', 'started_or_previous'
  UNION ALL SELECT 'energized', 'completion_checked', 'contract_signed', 'later_of_previous'
),
span AS (
  SELECT cur.order_id,
         cur.step,
         cur.handler_id,
         o.supply,
         CAST(CASE k.start_from
                WHEN 'accepted' THEN o.accepted_at
                WHEN 'later_of_previous'
                  THEN COALESCE(GREATEST(prev1.finished_at, prev2.finished_at), prev1.finished_at, prev2.finished_at)
                ELSE COALESCE(cur.started_at, prev1.finished_at, prev2.finished_at)
              END AS DATE) AS start_day,
         CAST(cur.finished_at AS DATE) AS end_day
  FROM work_order_steps cur
  JOIN timed_step k ON k.step = cur.step
  JOIN work_orders o ON o.order_id = cur.order_id
  LEFT JOIN work_order_steps prev1 ON prev1.order_id = cur.order_id AND prev1.step = k.prev1
  LEFT JOIN work_order_steps prev2 ON prev2.order_id = cur.order_id AND prev2.step = k.prev2
)
SELECT sp.order_id, sp.step, sp.handler_id, sp.supply, sp.start_day, sp.end_day, ce.wd_idx - cs.wd_idx AS workdays
FROM span sp
JOIN cal cs ON cs.day = sp.start_day
JOIN cal ce ON ce.day = sp.end_day
