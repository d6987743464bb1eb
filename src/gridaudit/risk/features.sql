-- Theft-risk features per snapshot (a customer as of a date), DuckDB dialect, kept portable:
-- no GROUP BY ALL / EXCLUDE / arg_max / hour() / window medians (DESIGN §4); medians are grouped and joined back.
-- Daily data is read once, into customer-week aggregates; every series feature works on those weeks.
-- Brace placeholders are filled by gridaudit.risk.features (numbers from RiskSettings, optional blocks).
-- Shares average CAST(1 AS DOUBLE) / CAST(0 AS DOUBLE), not 1.0 / 0.0: Spark reads 1.0 as DECIMAL(2,1) and averages it to 5 decimals.
WITH cm0 AS (
    SELECT meter_id, customer_id, meter_id AS src_meter_id FROM meters WHERE role = 'customer' AND customer_id IS NOT NULL
    {aug_meters}
),
cust AS (  -- integer keys: ck (customer), gk (category), ak (area, 0 without one) keep the big stages narrow
    SELECT CAST(ROW_NUMBER() OVER (ORDER BY customer_id) AS INTEGER) AS ck, customer_id, category, area_id,
           DENSE_RANK() OVER (ORDER BY category) AS gk,
           CASE WHEN area_id <> '' THEN DENSE_RANK() OVER (ORDER BY area_id) ELSE 0 END AS ak,
           contract_kva, status
    FROM (SELECT customer_id, {category} AS category, {area} AS area_id, {contract_kva} AS contract_kva,
                 {status} AS status
          FROM {customers}) c0
),
cm AS (
    SELECT cm0.meter_id, cm0.customer_id, cm0.src_meter_id, cust.ck,
           COUNT(*) OVER (PARTITION BY cust.ck) AS n_meters
    FROM cm0 JOIN cust ON cust.customer_id = cm0.customer_id
),
snaps AS (  -- the snapshots with their customers' keys (src_ck: the customer whose events and hits count)
    SELECT s.snap_id, s.customer_id, s.as_of, s.as_of_di, s.last_w, s.as_of_period, s.src_customer_id,
           c.ck, sc.ck AS src_ck, c.gk, c.ak
    FROM snapshots s JOIN cust c ON c.customer_id = s.customer_id
    LEFT JOIN cust sc ON sc.customer_id = s.src_customer_id
),
mw AS (  -- meter-week of the meters that need one: the meters of customers with several, area-total meters
    SELECT d.meter_id, CAST(FLOOR(DATEDIFF('day', DATE '2000-01-03', d.day) / 7.0) AS INT) AS w,
           {week_aggs}
    FROM {daily_usage} d
    JOIN (SELECT meter_id FROM cm WHERE n_meters > 1 {area_meters}) mm ON mm.meter_id = d.meter_id
    WHERE d.day <= DATE '{max_day}' AND d.day > DATE '{min_day}' AND d.kwh IS NOT NULL
    GROUP BY d.meter_id, CAST(FLOOR(DATEDIFF('day', DATE '2000-01-03', d.day) / 7.0) AS INT)
),
cw AS (  -- customer-week: the one pass over daily_usage for one-meter customers (nearly all); a customer's
         -- several meters are summed, with day counts from its best-covered meter
    SELECT cm.ck, CAST(FLOOR(DATEDIFF('day', DATE '2000-01-03', d.day) / 7.0) AS INT) AS w,
           {week_aggs}
    FROM {daily_usage} d JOIN cm ON cm.meter_id = d.meter_id
    WHERE cm.n_meters = 1 AND d.day <= DATE '{max_day}' AND d.day > DATE '{min_day}' AND d.kwh IS NOT NULL
    GROUP BY cm.ck, CAST(FLOOR(DATEDIFF('day', DATE '2000-01-03', d.day) / 7.0) AS INT)
    UNION ALL
    SELECT cm.ck, mw.w, SUM(mw.s) AS s, SUM(mw.ss) AS ss, MAX(mw.n) AS n, MIN(mw.zeros) AS zeros,
           MIN(mw.near_zeros) AS near_zeros, SUM(mw.s_we) AS s_we, MAX(mw.n_we) AS n_we, SUM(mw.kmax) AS kmax,
           SUM(mw.kmin) AS kmin
    FROM mw JOIN cm ON cm.meter_id = mw.meter_id
    WHERE cm.n_meters > 1
    GROUP BY cm.ck, mw.w
),
cmean AS (
    SELECT ck, SUM(s) / SUM(n) AS mu, MIN(w) AS first_w FROM cw GROUP BY ck
),
rel AS (  -- each customer-week relative to the customer's mean over the 52 weeks of data up to it (never a later
          -- week: a snapshot's peer index reads no day after it, issue 17): input of the peer indices
    SELECT c.gk, c.ak, q.w, (q.s / q.n) / q.mu AS r
    FROM (SELECT ck, w, s, n,
                 SUM(s) OVER (PARTITION BY ck ORDER BY w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW)
                     / SUM(n) OVER (PARTITION BY ck ORDER BY w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW) AS mu
          FROM cw) q
    JOIN cust c ON c.ck = q.ck
    WHERE q.n >= {min_days_week} AND q.mu > 0 AND {real_cw}
),
idx_cat AS (
    SELECT gk, w, MEDIAN(r) AS idx FROM rel GROUP BY gk, w
),
idx_area AS (
    SELECT ak, gk, w, MEDIAN(r) AS idx, COUNT(*) AS k FROM rel WHERE ak > 0 GROUP BY ak, gk, w
),
wk AS (  -- the calendar of weeks, taken from the data (portable: no generate_series)
    SELECT w, LEAST(EXTRACT(month FROM DATE '2000-01-03' + CAST(7 * w AS INTEGER)),
                    EXTRACT(month FROM DATE '2000-01-03' + CAST(7 * w + 6 AS INTEGER))) AS mon
    FROM (SELECT DISTINCT w FROM cw) dw
),
idx AS (  -- the peer index of every peer group and week: area × category with enough peers, else category
    SELECT pg.gk, pg.ak, wk.w, wk.mon, COALESCE(CASE WHEN ia.k >= {min_peers} THEN ia.idx END, ic.idx) AS idx
    FROM (SELECT DISTINCT gk, ak FROM cust) pg CROSS JOIN wk
    LEFT JOIN idx_area ia ON ia.ak = pg.ak AND ia.gk = pg.gk AND ia.w = wk.w
    LEFT JOIN idx_cat ic ON ic.gk = pg.gk AND ic.w = wk.w
),
{optional_ctes}
grid AS (  -- every week of every snapshot of this batch, from the customer's first week of data: a dense series
    SELECT s.snap_id, s.ck, s.src_ck, s.gk, s.ak, s.last_w, wk.w
    FROM snaps s
    JOIN cmean ON cmean.ck = s.ck
    JOIN wk ON wk.w <= s.last_w AND wk.w > s.last_w - {history_weeks} AND wk.w >= cmean.first_w
    WHERE {batch_snaps}
),
sw0 AS (  -- the weekly series of each snapshot, adjusted by its peer index
    SELECT s.snap_id, s.last_w, s.w, cw.s, cw.n, cw.zeros, cw.near_zeros, cw.s_we, cw.n_we, cw.kmax, ix.mon,
           CASE WHEN cw.n >= {min_days_week} THEN cw.s / cw.n END AS m,
           CASE WHEN cw.n >= {min_days_week} THEN cw.kmin END AS kb,
           CASE WHEN cw.n >= {min_days_week} THEN (cw.s / cw.n) / NULLIF(ix.idx, 0) END AS a,
           CASE WHEN cw.n >= {min_days_week} AND ix.idx > 0 THEN LN(ix.idx) END AS li,
           CASE WHEN cw.n >= {min_days_week} THEN LN(cw.s / cw.n + 0.1) END AS lm,
           CASE WHEN cw.n >= {min_days_week} AND cw.s > 0 THEN
               SQRT(GREATEST(cw.ss / cw.n - (cw.s / cw.n) * (cw.s / cw.n), 0)) / (cw.s / cw.n) END AS cvw,
           cw.ss,
           {ev_week} AS n_ev,
           {loss_week} AS loss_rate
    FROM grid s
    LEFT JOIN (SELECT * FROM cw WHERE {batch_cw}) cw ON cw.ck = s.ck AND cw.w = s.w
    JOIN idx ix ON ix.gk = s.gk AND ix.ak = s.ak AND ix.w = s.w
    {optional_joins}
),
fit AS (  -- each customer's own elasticity to its peers' seasonal index: log use = b0 + b1 · log index
    SELECT snap_id, COUNT(li) AS k, SUM(li) AS sx, SUM(lm) AS sy, SUM(li * li) AS sxx, SUM(li * lm) AS sxy
    FROM sw0 WHERE li IS NOT NULL AND lm IS NOT NULL GROUP BY snap_id
),
beta AS (
    SELECT snap_id, sy / k - b1 * sx / k AS b0, b1
    FROM (SELECT snap_id, k, sx, sy,
                 LEAST(GREATEST(COALESCE((k * sxy - sx * sy) / NULLIF(k * sxx - sx * sx, 0), 1.0), {beta_min}), {beta_max})
                     AS b1
          FROM fit) f
),
sx AS (  -- the narrow series the window functions sort: log residual against the peer index, log volatility
    SELECT sw0.snap_id, sw0.last_w, sw0.w, CASE WHEN sw0.li IS NOT NULL THEN sw0.a END AS a, sw0.m, sw0.cvw, sw0.kb,
           sw0.lm - beta.b0 - beta.b1 * sw0.li AS la,
           LN(sw0.cvw + 0.05) AS lc
    FROM sw0 JOIN beta ON beta.snap_id = sw0.snap_id
),
meda AS (  -- each snapshot's median weekly use against its peers: read by aggb here and by med, so aggb runs before
           -- the window stage and the wide weekly series sw0 is dropped before wn is built (memory at 1 M)
    SELECT snap_id, MEDIAN(a) AS med_a FROM sx GROUP BY snap_id
),
aggb AS (
    SELECT win.snap_id,
           MIN(win.w) AS first_w,
           SUM(win.n) AS n_days,
           SUM(win.s) / NULLIF(SUM(win.n), 0) AS mean_kwh,
           SQRT(GREATEST(SUM(win.ss) / NULLIF(SUM(win.n), 0)
                - (SUM(win.s) / NULLIF(SUM(win.n), 0)) * (SUM(win.s) / NULLIF(SUM(win.n), 0)), 0))
               / NULLIF(SUM(win.s) / NULLIF(SUM(win.n), 0), 0) AS cv_day,
           CAST(SUM(win.zeros) AS DOUBLE) / NULLIF(SUM(win.n), 0) AS zero_share,
           CAST(SUM(win.near_zeros) AS DOUBLE) / NULLIF(SUM(win.n), 0) AS near_zero_share,
           CAST(SUM(CASE WHEN win.w > win.last_w - {recent_weeks} THEN win.zeros ELSE 0 END) AS DOUBLE)
               / NULLIF(SUM(CASE WHEN win.w > win.last_w - {recent_weeks} THEN win.n ELSE 0 END), 0) AS zero_share_recent,
           (SUM(win.s_we) / NULLIF(SUM(win.n_we), 0))
               / NULLIF((SUM(win.s) - SUM(win.s_we)) / NULLIF(SUM(win.n) - SUM(win.n_we), 0), 0) AS weekend_ratio,
           AVG(CASE WHEN win.mon IN (12, 1, 2) THEN win.m END)
               / NULLIF(AVG(CASE WHEN win.mon IN (6, 7, 8) THEN win.m END), 0) AS winter_summer_ratio,
           CAST(SUM(win.n) AS DOUBLE) / (7.0 * (MAX(win.last_w) - MIN(win.w) + 1)) AS coverage,
           MAX(win.last_w) - MIN(win.w) + 1 - COUNT(win.n) AS gap_weeks,
           1.0 - CAST(SUM(CASE WHEN win.w > win.last_w - {recent_weeks} THEN win.n ELSE 0 END) AS DOUBLE)
               / (7.0 * {recent_weeks}) AS missing_recent,
           AVG(CASE WHEN win.n < 7 THEN CAST(1 AS DOUBLE) WHEN win.n >= 7 THEN CAST(0 AS DOUBLE) END) AS short_week_share,
           MAX(win.kmax) AS kmax,
           SUM(win.n_ev) AS ev_count,
           SUM(CASE WHEN win.w > win.last_w - {recent_weeks} THEN win.n_ev ELSE 0 END) AS ev_recent,
           SUM(CASE WHEN win.a < {low_week_frac} * med.med_a THEN win.n_ev ELSE 0 END) AS ev_low,
           CORR(win.m, win.loss_rate) AS loss_corr
    FROM sw0 win JOIN meda med ON med.snap_id = win.snap_id
    GROUP BY win.snap_id
),
wn AS (  -- every window over the dense weekly series in one sort: week-to-week differences (a noise scale
         -- blind to level shifts), cumulative and rolling sums, rolling maxima. `a` and `la` are defined in the
         -- same weeks, so one count serves both; weekly m and kb windows use it too.
    SELECT snap_id, last_w, w, a, m, cvw, kb, la, lc,
           la - LAG(la) OVER (PARTITION BY snap_id ORDER BY w) AS dla,
           lc - LAG(lc) OVER (PARTITION BY snap_id ORDER BY w) AS dlc,
           SUM(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ca,
           CAST(COUNT(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER) AS cn,
           MAX(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS x4,
           MAX(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS x8,
           MAX(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS x13,
           SUM(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS sa4,
           CAST(COUNT(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS INTEGER) AS n4,
           CAST(COUNT(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW) AS INTEGER) AS n8,
           SUM(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS sa13,
           CAST(COUNT(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS INTEGER) AS n13,
           SUM(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 16 PRECEDING AND 4 PRECEDING) AS sp13,
           CAST(COUNT(a) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 16 PRECEDING AND 4 PRECEDING) AS INTEGER) AS nprior13,
           AVG(m) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS am4,
           AVG(kb) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS ab4,
           AVG(kb) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS ab13,
           SUM(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS s4,
           SUM(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS s13,
           SUM(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 25 PRECEDING AND CURRENT ROW) AS s26,
           CAST(COUNT(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 25 PRECEDING AND CURRENT ROW) AS INTEGER) AS n26,
           SUM(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW) AS s52,
           CAST(COUNT(la) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW) AS INTEGER) AS n52,
           SUM(lc) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS c4,
           CAST(COUNT(lc) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS INTEGER) AS kc4,
           SUM(lc) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS c13,
           CAST(COUNT(lc) OVER (PARTITION BY snap_id ORDER BY w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW) AS INTEGER) AS kc13
    FROM sx
),
med AS (
    SELECT q.snap_id, meda.med_a, q.med_m, q.med_cvw, q.med_kb, q.med_kr, q.med_la, q.noise_a, q.noise_c,
           q.ta, q.tn, q.tc, q.tcn
    FROM (SELECT snap_id, MEDIAN(m) AS med_m, MEDIAN(cvw) AS med_cvw,
                 MEDIAN(kb) AS med_kb, MEDIAN(kb / NULLIF(m, 0)) AS med_kr, MEDIAN(la) AS med_la, MEDIAN(ABS(dla)) * 1.0483 AS noise_a, MEDIAN(ABS(dlc)) * 1.0483 AS noise_c,
                 SUM(la) AS ta, COUNT(la) AS tn, SUM(lc) AS tc, COUNT(lc) AS tcn
          FROM wn GROUP BY snap_id) q
    JOIN meda ON meda.snap_id = q.snap_id
),
wx AS (  -- every week against the whole history (issue 17): the k-week dip ending this week (its t, the mean
         -- before it and after it, in log), the change point after this week, an anomalous week (log residual
         -- below the median by anomaly_noise_k noise units), a week with a low day (its lowest day against its
         -- mean, below low_day_frac of the customer's usual ratio: intermittent low days)
    SELECT win.snap_id, win.last_w, win.w,
           CASE WHEN win.n4 >= 3 AND med.tn - win.n4 >= {min_segment_weeks}
                THEN ((med.ta - win.s4) / (med.tn - win.n4) - win.s4 / win.n4)
                     / NULLIF(med.noise_a * SQRT(1.0 / win.n4 + 1.0 / (med.tn - win.n4)), 0) END AS t4,
           CASE WHEN win.n4 >= 3 AND win.cn - win.n4 >= 2 THEN (win.ca - win.s4) / (win.cn - win.n4) - win.s4 / win.n4 END AS pre4,
           CASE WHEN win.n4 >= 3 AND med.tn - win.cn >= 2 THEN (med.ta - win.ca) / (med.tn - win.cn) - win.s4 / win.n4 END AS rec4,
           CASE WHEN win.n13 >= 10 AND med.tn - win.n13 >= {min_segment_weeks}
                THEN ((med.ta - win.s13) / (med.tn - win.n13) - win.s13 / win.n13)
                     / NULLIF(med.noise_a * SQRT(1.0 / win.n13 + 1.0 / (med.tn - win.n13)), 0) END AS t13,
           CASE WHEN win.n13 >= 10 AND win.cn - win.n13 >= 2 THEN (win.ca - win.s13) / (win.cn - win.n13) - win.s13 / win.n13 END AS pre13,
           CASE WHEN win.n13 >= 10 AND med.tn - win.cn >= 2 THEN (med.ta - win.ca) / (med.tn - win.cn) - win.s13 / win.n13 END AS rec13,
           CASE WHEN win.n26 >= 20 AND med.tn - win.n26 >= {min_segment_weeks}
                THEN ((med.ta - win.s26) / (med.tn - win.n26) - win.s26 / win.n26)
                     / NULLIF(med.noise_a * SQRT(1.0 / win.n26 + 1.0 / (med.tn - win.n26)), 0) END AS t26,
           CASE WHEN win.n26 >= 20 AND win.cn - win.n26 >= 2 THEN (win.ca - win.s26) / (win.cn - win.n26) - win.s26 / win.n26 END AS pre26,
           CASE WHEN win.n26 >= 20 AND med.tn - win.cn >= 2 THEN (med.ta - win.ca) / (med.tn - win.cn) - win.s26 / win.n26 END AS rec26,
           CASE WHEN win.la IS NOT NULL AND win.cn >= {min_segment_weeks} AND med.tn - win.cn >= {min_segment_weeks}
                THEN (win.ca / win.cn - (med.ta - win.ca) / (med.tn - win.cn))
                     / NULLIF(med.noise_a * SQRT(1.0 / win.cn + 1.0 / (med.tn - win.cn)), 0) END AS cpt,
           CASE WHEN win.la IS NOT NULL THEN
               CASE WHEN win.la < med.med_la - {anomaly_noise_k} * med.noise_a THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END END AS anom,
           CASE WHEN win.kb IS NOT NULL AND win.m > 0 AND med.med_kr > 0 THEN
               CASE WHEN win.kb / win.m < {low_day_frac} * med.med_kr THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END END AS lowd
    FROM wn win JOIN med ON med.snap_id = win.snap_id
),
pkv AS (  -- the peaks of those statistics per snapshot (f*: the floor a week's statistic must reach to be at the
          -- peak, a relative {peak_tie} below it, so that a near-tie moved in its last bits by a parallel float
          -- sum does not move the peak's week between runs), and shares of anomalous and low-day weeks
    SELECT snap_id, MAX(last_w) AS last_w,
           MAX(t4) - {peak_tie} * (1 + ABS(MAX(t4))) AS f4, MAX(t13) - {peak_tie} * (1 + ABS(MAX(t13))) AS f13,
           MAX(t26) - {peak_tie} * (1 + ABS(MAX(t26))) AS f26, MAX(cpt) - {peak_tie} * (1 + ABS(MAX(cpt))) AS fcp,
           MIN(cpt) AS mcu, MIN(cpt) + {peak_tie} * (1 + ABS(MIN(cpt))) AS fcu,
           AVG(anom) AS anom_share, AVG(lowd) AS lowday_share,
           AVG(CASE WHEN w > last_w - 13 THEN lowd END) AS lowday_recent13
    FROM wx GROUP BY snap_id
),
pk AS (  -- where the largest dips and steps are (weeks before the as-of week) and how use stood around them
    SELECT wx.snap_id,
           MAX(pkv.last_w) - MAX(CASE WHEN wx.t4 >= pkv.f4 THEN wx.w END) AS drop4_age,
           MAX(CASE WHEN wx.t4 >= pkv.f4 THEN wx.pre4 END) AS drop4_pre,
           MAX(CASE WHEN wx.t4 >= pkv.f4 THEN wx.rec4 END) AS drop4_rec,
           MAX(pkv.last_w) - MAX(CASE WHEN wx.t13 >= pkv.f13 THEN wx.w END) AS drop13_age,
           MAX(CASE WHEN wx.t13 >= pkv.f13 THEN wx.pre13 END) AS drop13_pre,
           MAX(CASE WHEN wx.t13 >= pkv.f13 THEN wx.rec13 END) AS drop13_rec,
           MAX(pkv.last_w) - MAX(CASE WHEN wx.t26 >= pkv.f26 THEN wx.w END) AS drop26_age,
           MAX(CASE WHEN wx.t26 >= pkv.f26 THEN wx.pre26 END) AS drop26_pre,
           MAX(CASE WHEN wx.t26 >= pkv.f26 THEN wx.rec26 END) AS drop26_rec,
           MAX(pkv.last_w) - MAX(CASE WHEN wx.cpt >= pkv.fcp THEN wx.w END) AS cp_age,
           -MAX(pkv.mcu) AS cpu_t,
           MAX(pkv.last_w) - MAX(CASE WHEN wx.cpt <= pkv.fcu THEN wx.w END) AS cpu_age,
           MAX(pkv.anom_share) AS anom_share, MAX(pkv.lowday_share) AS lowday_share,
           MAX(pkv.lowday_recent13) AS lowday_recent13
    FROM wx JOIN pkv ON pkv.snap_id = wx.snap_id
    GROUP BY wx.snap_id
),
blk AS (  -- 13-week blocks back from the as-of week: the share of anomalous and of low-day weeks in each
    SELECT snap_id, CAST(FLOOR((last_w - w) / 13.0) AS INT) AS b, AVG(anom) AS sa, AVG(lowd) AS sl,
           COUNT(anom) AS ka, COUNT(lowd) AS kl
    FROM wx GROUP BY snap_id, CAST(FLOOR((last_w - w) / 13.0) AS INT)
),
blf AS (
    SELECT snap_id, MAX(CASE WHEN ka >= 8 THEN sa END) AS anom_share13, MAX(CASE WHEN kl >= 8 THEN sl END) AS lowday_share13
    FROM blk GROUP BY snap_id
),
aggw AS (
    SELECT win.snap_id,
           MAX(win.last_w) AS last_w,
           COUNT(win.a) AS n_weeks,
           MAX(med.med_m) AS med_kwh,
           MIN(CASE WHEN win.n4 >= 3 THEN win.am4 END) / NULLIF(MAX(med.med_m), 0) AS dip4_raw,
           MIN(CASE WHEN win.n4 >= 3 THEN win.ab4 END) / NULLIF(MAX(med.med_kb), 0) AS base_dip4,
           MIN(CASE WHEN win.n13 >= 10 THEN win.ab13 END) / NULLIF(MAX(med.med_kb), 0) AS base_dip13,
           AVG(CASE WHEN win.w > win.last_w - 4 THEN win.kb END) / NULLIF(MAX(med.med_kb), 0) AS base_recent4,
           MIN(CASE WHEN win.n4 >= 3 THEN win.am4 END) / NULLIF(MAX(med.med_kb), 0) AS dip4_base,
           AVG(CASE WHEN win.w > win.last_w - 4 THEN win.m END) / NULLIF(MAX(med.med_m), 0) AS recent4_raw,
           MIN(CASE WHEN win.n4 >= 3 THEN (win.sa4 / NULLIF(win.n4, 0)) END) / NULLIF(MAX(med.med_a), 0) AS dip4,
           MIN(CASE WHEN win.n13 >= 10 THEN (win.sa13 / NULLIF(win.n13, 0)) END) / NULLIF(MAX(med.med_a), 0) AS dip13,
           MAX(CASE WHEN win.n4 >= 3 AND med.tn - win.n4 >= {min_segment_weeks}
                    THEN ((med.ta - win.s4) / (med.tn - win.n4) - win.s4 / win.n4)
                         / NULLIF(med.noise_a * SQRT(1.0 / win.n4 + 1.0 / (med.tn - win.n4)), 0) END) AS scan_t4,
           MAX(CASE WHEN win.n4 >= 3 AND med.tn - win.n4 >= {min_segment_weeks}
                    THEN (med.ta - win.s4) / (med.tn - win.n4) - win.s4 / win.n4 END) AS scan_d4,
           MAX(CASE WHEN win.n13 >= 10 AND med.tn - win.n13 >= {min_segment_weeks}
                    THEN ((med.ta - win.s13) / (med.tn - win.n13) - win.s13 / win.n13)
                         / NULLIF(med.noise_a * SQRT(1.0 / win.n13 + 1.0 / (med.tn - win.n13)), 0) END) AS scan_t13,
           MAX(CASE WHEN win.n13 >= 10 AND med.tn - win.n13 >= {min_segment_weeks}
                    THEN (med.ta - win.s13) / (med.tn - win.n13) - win.s13 / win.n13 END) AS scan_d13,
           MAX(CASE WHEN win.n26 >= 20 AND med.tn - win.n26 >= {min_segment_weeks}
                    THEN ((med.ta - win.s26) / (med.tn - win.n26) - win.s26 / win.n26)
                         / NULLIF(med.noise_a * SQRT(1.0 / win.n26 + 1.0 / (med.tn - win.n26)), 0) END) AS scan_t26,
           MAX(CASE WHEN win.n26 >= 20 AND med.tn - win.n26 >= {min_segment_weeks}
                    THEN (med.ta - win.s26) / (med.tn - win.n26) - win.s26 / win.n26 END) AS scan_d26,
           MAX(CASE WHEN win.n52 >= 40 AND med.tn - win.n52 >= {min_segment_weeks}
                    THEN ((med.ta - win.s52) / (med.tn - win.n52) - win.s52 / win.n52)
                         / NULLIF(med.noise_a * SQRT(1.0 / win.n52 + 1.0 / (med.tn - win.n52)), 0) END) AS scan_t52,
           MAX(CASE WHEN win.n52 >= 40 AND med.tn - win.n52 >= {min_segment_weeks}
                    THEN (med.ta - win.s52) / (med.tn - win.n52) - win.s52 / win.n52 END) AS scan_d52,
           MAX(CASE WHEN win.kc4 >= 3 AND med.tcn - win.kc4 >= {min_segment_weeks}
                    THEN (win.c4 / win.kc4 - (med.tc - win.c4) / (med.tcn - win.kc4))
                         / NULLIF(med.noise_c * SQRT(1.0 / win.kc4 + 1.0 / (med.tcn - win.kc4)), 0) END) AS scan_c4,
           MAX(CASE WHEN win.kc13 >= 10 AND med.tcn - win.kc13 >= {min_segment_weeks}
                    THEN (win.c13 / win.kc13 - (med.tc - win.c13) / (med.tcn - win.kc13))
                         / NULLIF(med.noise_c * SQRT(1.0 / win.kc13 + 1.0 / (med.tcn - win.kc13)), 0) END) AS scan_c13,
           MAX(CASE WHEN win.n4 >= 4 AND med.tn - win.n4 >= {min_segment_weeks}
                    THEN (med.med_la - win.x4) / NULLIF(med.noise_a, 0) END) AS sus_t4,
           MAX(CASE WHEN win.n4 >= 4 AND med.tn - win.n4 >= {min_segment_weeks} THEN med.med_la - win.x4 END) AS sus_d4,
           MAX(CASE WHEN win.n8 >= 8 AND med.tn - win.n8 >= {min_segment_weeks}
                    THEN (med.med_la - win.x8) / NULLIF(med.noise_a, 0) END) AS sus_t8,
           MAX(CASE WHEN win.n8 >= 8 AND med.tn - win.n8 >= {min_segment_weeks} THEN med.med_la - win.x8 END) AS sus_d8,
           MAX(CASE WHEN win.n13 >= 13 AND med.tn - win.n13 >= {min_segment_weeks}
                    THEN (med.med_la - win.x13) / NULLIF(med.noise_a, 0) END) AS sus_t13,
           MAX(CASE WHEN win.n13 >= 13 AND med.tn - win.n13 >= {min_segment_weeks} THEN med.med_la - win.x13 END) AS sus_d13,
           MIN(CASE WHEN win.n4 >= 3 AND win.nprior13 >= 8 THEN (win.sa4 / NULLIF(win.n4, 0)) / NULLIF((win.sp13 / NULLIF(win.nprior13, 0)), 0) END) AS drop4_prior,
           AVG(CASE WHEN win.w > win.last_w - 4 THEN win.a END) / NULLIF(MAX(med.med_a), 0) AS recent4,
           AVG(CASE WHEN win.w > win.last_w - 13 THEN win.a END) / NULLIF(MAX(med.med_a), 0) AS recent13,
           MIN(CASE WHEN win.la IS NOT NULL AND win.cn >= {min_segment_weeks} AND med.tn - win.cn >= {min_segment_weeks}
                    THEN (med.ta - win.ca) / (med.tn - win.cn) - win.ca / win.cn END) AS cp_ratio,
           MAX(CASE WHEN win.la IS NOT NULL AND win.cn >= {min_segment_weeks} AND med.tn - win.cn >= {min_segment_weeks}
                    THEN (win.ca / win.cn - (med.ta - win.ca) / (med.tn - win.cn))
                         / NULLIF(med.noise_a * SQRT(1.0 / win.cn + 1.0 / (med.tn - win.cn)), 0) END) AS cp_t,
           MAX(med.noise_a) AS noise_week,
           AVG(CASE WHEN win.a IS NOT NULL THEN
                   CASE WHEN win.a < {low_week_frac} * med.med_a THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END END) AS low_week_share,
           STDDEV_SAMP(win.a) / NULLIF(AVG(win.a), 0) AS cv_week,
           MAX(med.med_cvw) AS cvw_med,
           AVG(CASE WHEN win.w > win.last_w - 4 THEN win.cvw END) / NULLIF(MAX(med.med_cvw), 0) AS cvw_recent,
           (COUNT(win.a) * SUM(win.w * win.a) - SUM(CASE WHEN win.a IS NOT NULL THEN win.w END) * SUM(win.a))
               / NULLIF(COUNT(win.a) * SUM(CASE WHEN win.a IS NOT NULL THEN win.w * win.w END)
                        - SUM(CASE WHEN win.a IS NOT NULL THEN win.w END) * SUM(CASE WHEN win.a IS NOT NULL THEN win.w END), 0)
               * 52.0 / NULLIF(AVG(win.a), 0) AS trend_year
    FROM wn win JOIN med ON med.snap_id = win.snap_id
    GROUP BY win.snap_id
),
agg AS (
    SELECT aggb.*, aggw.n_weeks, aggw.med_kwh, aggw.dip4_raw, aggw.base_dip4, aggw.base_dip13, aggw.base_recent4, aggw.dip4_base, aggw.recent4_raw, aggw.dip4, aggw.dip13, aggw.scan_t4, aggw.scan_d4, aggw.scan_t13, aggw.scan_d13, aggw.scan_t26, aggw.scan_d26, aggw.scan_t52, aggw.scan_d52, aggw.scan_c4, aggw.scan_c13, aggw.sus_t4, aggw.sus_d4, aggw.sus_t8, aggw.sus_d8, aggw.sus_t13, aggw.sus_d13, aggw.drop4_prior, aggw.recent4, aggw.recent13, aggw.cp_ratio, aggw.cp_t, aggw.noise_week, aggw.low_week_share, aggw.cv_week, aggw.cvw_med, aggw.cvw_recent, aggw.trend_year
           , pk.drop4_age, pk.drop4_pre, pk.drop4_rec, pk.drop13_age, pk.drop13_pre, pk.drop13_rec,
           pk.drop26_age, pk.drop26_pre, pk.drop26_rec, pk.cp_age, pk.cpu_t, pk.cpu_age,
           pk.anom_share, pk.lowday_share, pk.lowday_recent13, blf.anom_share13, blf.lowday_share13
    FROM aggb JOIN aggw ON aggw.snap_id = aggb.snap_id
    LEFT JOIN pk ON pk.snap_id = aggb.snap_id
    LEFT JOIN blf ON blf.snap_id = aggb.snap_id
)
SELECT s.snap_id, s.customer_id, s.as_of, c.category, c.status,
       agg.n_weeks, agg.n_days, agg.mean_kwh, agg.med_kwh, agg.dip4_raw, agg.recent4_raw,
       agg.base_dip4, agg.base_dip13, agg.base_recent4, agg.dip4_base,
       agg.dip4, agg.dip13, agg.drop4_prior,
       agg.scan_t4, agg.scan_t13, agg.scan_t26, agg.scan_t52, agg.scan_d4, agg.scan_d13, agg.scan_d26, agg.scan_d52,
       agg.scan_c4, agg.scan_c13, agg.noise_week,
       agg.sus_t4, agg.sus_t8, agg.sus_t13, agg.sus_d4, agg.sus_d8, agg.sus_d13, agg.recent4, agg.recent13, agg.cp_ratio, agg.cp_t,
       agg.low_week_share, agg.cv_week, agg.cv_day, agg.cvw_med, agg.cvw_recent, agg.trend_year,
       agg.zero_share, agg.near_zero_share, agg.zero_share_recent, agg.weekend_ratio, agg.winter_summer_ratio,
       agg.coverage, agg.gap_weeks, agg.missing_recent, agg.short_week_share,
       agg.drop4_age, agg.drop4_pre, agg.drop4_rec, agg.drop13_age, agg.drop13_pre, agg.drop13_rec,
       agg.drop26_age, agg.drop26_pre, agg.drop26_rec, agg.cp_age, agg.cpu_t, agg.cpu_age,
       agg.anom_share, agg.anom_share13, agg.lowday_share, agg.lowday_share13, agg.lowday_recent13,
       agg.kmax / NULLIF(c.contract_kva * 24.0, 0) AS cap_use_max,
       agg.mean_kwh / NULLIF(c.contract_kva * 24.0, 0) AS cap_use_mean,
       agg.ev_count,
       CASE WHEN agg.ev_count IS NOT NULL THEN agg.ev_recent END AS ev_recent,
       CASE WHEN agg.ev_count IS NOT NULL THEN agg.ev_low END AS ev_low,
       agg.ev_low / NULLIF(agg.ev_count, 0) AS ev_low_share,
       {ev_types} AS ev_types,
       agg.loss_corr,
       {rule_cols},
       {interval_cols}
FROM snaps s
JOIN cust c ON c.ck = s.ck
LEFT JOIN agg ON agg.snap_id = s.snap_id
{final_joins}
WHERE {batch_snaps}
ORDER BY s.snap_id
