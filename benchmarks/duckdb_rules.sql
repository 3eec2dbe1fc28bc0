-- The rules of CONTRACT.md as plain DuckDB SQL over the delivery's Parquet
-- files: the benchmark's baseline. It follows docs/contract-readings.md like
-- the Polars engine, so the cases can be compared (rule, cpr, anchor, period,
-- amount), but it builds no evidence and no case ids. Placeholders: {dir},
-- {as_of}, {window_start}, {threshold}, {residence}, {income_tested},
-- {replacement}.
--
-- Each rule is one section, a comment line "-- R<nn> <name>" followed by one
-- INSERT INTO cases; tests/rules/test_rules_registry.py fails for a rule of the
-- catalogue without its section.

CREATE OR REPLACE TEMP VIEW payments AS SELECT * FROM read_parquet('{dir}/payments.parquet');
CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM read_parquet('{dir}/residence_events.parquet');
CREATE OR REPLACE TEMP VIEW relations AS
    SELECT * FROM read_parquet('{dir}/relations.parquet') WHERE valid_from <= DATE '{as_of}';
CREATE OR REPLACE TEMP VIEW persons AS SELECT * FROM read_parquet('{dir}/persons.parquet');
CREATE OR REPLACE TEMP VIEW income AS SELECT * FROM read_parquet('{dir}/income.parquet');

CREATE OR REPLACE TEMP TABLE net AS
SELECT cpr, benefit_code, period_start, period_end, sum(amount_dkk) AS amount,
       date_diff('day', period_start, period_end) + 1 AS days
FROM payments
WHERE period_start BETWEEN DATE '{window_start}' AND DATE '{as_of}'
GROUP BY ALL
HAVING sum(amount_dkk) > 0;

CREATE OR REPLACE TEMP TABLE tl AS
SELECT cpr, event_date AS vf,
       lead(event_date) OVER (PARTITION BY cpr ORDER BY event_date) AS vt,
       event_type,
       CASE WHEN event_type IN ('address', 'immigrated') THEN address_id END AS address_id,
       CASE event_type WHEN 'address' THEN 'resident' WHEN 'immigrated' THEN 'resident'
            WHEN 'emigrated' THEN 'abroad' WHEN 'disappeared' THEN 'disappeared'
            WHEN 'died' THEN 'dead' END AS state
FROM events WHERE event_date <= DATE '{as_of}';

-- State of every net line's recipient on the line's first day.
CREATE OR REPLACE TEMP TABLE line_state AS
SELECT n.*, t.state, t.vf AS event_date
FROM net n JOIN tl t
  ON n.cpr = t.cpr AND t.vf <= n.period_start AND (t.vt IS NULL OR n.period_start < t.vt);

CREATE OR REPLACE TEMP TABLE cases (
    rule_id VARCHAR, cpr VARCHAR, anchor_date DATE, period_start DATE, period_end DATE,
    amount DECIMAL(38, 2)
);

-- R01 family abroad: every household member abroad on s, recipient resident
INSERT INTO cases
SELECT 'R01', cpr, arg_min(anchor, period_start), min(period_start), max(period_end), sum(amount)
FROM (
    SELECT h.cpr, h.period_start, h.period_end, h.benefit_code, h.amount,
           max(CASE WHEN m.event_type = 'emigrated' THEN m.vf END) AS anchor
    FROM (
        SELECT DISTINCT l.cpr, l.period_start, l.period_end, l.benefit_code, l.amount,
               mem.member, mem.is_minor
        FROM line_state l
        JOIN (
            SELECT cpr, related_cpr AS member, false AS is_minor, valid_from, valid_to,
                   NULL AS child FROM relations WHERE relation = 'spouse'
            UNION ALL
            SELECT c.cpr, c.related_cpr, true, c.valid_from, c.valid_to, c.related_cpr
            FROM relations c WHERE c.relation = 'child'
        ) mem ON mem.cpr = l.cpr
             AND mem.valid_from <= l.period_start
             AND (mem.valid_to IS NULL OR l.period_start < mem.valid_to)
        LEFT JOIN persons kid ON kid.cpr = mem.child
        WHERE l.state = 'resident' AND l.benefit_code IN ({residence})
          AND (NOT mem.is_minor OR (kid.birth_date IS NOT NULL AND
               year(l.period_start) - year(kid.birth_date)
               - CASE WHEN month(l.period_start) * 100 + day(l.period_start)
                          < month(kid.birth_date) * 100 + day(kid.birth_date)
                      THEN 1 ELSE 0 END < 18))
        UNION
        SELECT l.cpr, l.period_start, l.period_end, l.benefit_code, l.amount, q.cpr, false
        FROM line_state l
        JOIN relations c ON c.cpr = l.cpr AND c.relation = 'child'
             AND c.valid_from <= l.period_start
             AND (c.valid_to IS NULL OR l.period_start < c.valid_to)
        JOIN persons kid ON kid.cpr = c.related_cpr
        JOIN relations q ON q.related_cpr = c.related_cpr AND q.relation = 'child'
             AND q.cpr <> l.cpr AND q.valid_from <= l.period_start
             AND (q.valid_to IS NULL OR l.period_start < q.valid_to)
        WHERE l.state = 'resident' AND l.benefit_code IN ({residence})
          AND year(l.period_start) - year(kid.birth_date)
              - CASE WHEN month(l.period_start) * 100 + day(l.period_start)
                         < month(kid.birth_date) * 100 + day(kid.birth_date)
                     THEN 1 ELSE 0 END < 18
    ) h
    LEFT JOIN tl m ON m.cpr = h.member AND m.vf <= h.period_start
         AND (m.vt IS NULL OR h.period_start < m.vt)
    GROUP BY ALL
    HAVING bool_or(h.is_minor) AND bool_and(coalesce(m.state, 'unknown') = 'abroad')
) GROUP BY cpr;

-- R02 paid while abroad
INSERT INTO cases
SELECT 'R02', cpr, arg_min(event_date, period_start), min(period_start), max(period_end),
       sum(amount)
FROM line_state WHERE state = 'abroad' AND benefit_code IN ({residence}) GROUP BY cpr;

-- R03 paid after death
INSERT INTO cases
SELECT 'R03', cpr, arg_min(event_date, period_start), min(period_start), max(period_end), sum(amount)
FROM line_state WHERE state = 'dead' GROUP BY cpr;

-- R04 income while on an income-tested benefit, per calendar month
INSERT INTO cases
SELECT 'R04', b.cpr, min(b.m), min(b.s), max(b.e), sum(least(b.benefit, i.income))
FROM (SELECT cpr, CAST(date_trunc('month', period_start) AS DATE) AS m, sum(amount) AS benefit,
             min(period_start) AS s, max(period_end) AS e
      FROM net WHERE benefit_code IN ({income_tested}) GROUP BY ALL) b
JOIN (SELECT cpr, month AS m, sum(gross_income_dkk) AS income FROM income
      WHERE month BETWEEN DATE '{window_start}' AND DATE '{as_of}' GROUP BY ALL) i
  ON b.cpr = i.cpr AND b.m = i.m
WHERE b.benefit > 0 AND i.income > {threshold}
GROUP BY b.cpr;

-- R05 single-parent supplement while living with a spouse or the other parent
INSERT INTO cases
SELECT 'R05', cpr, min(period_start), min(period_start), max(period_end), sum(amount)
FROM (
    SELECT DISTINCT l.cpr, l.period_start, l.period_end, l.benefit_code, l.amount
    FROM net l
    JOIN (
        SELECT cpr, related_cpr AS partner, valid_from, valid_to FROM relations
        WHERE relation = 'spouse'
        UNION ALL
        SELECT p.cpr, q.cpr, DATE '0001-01-01', NULL FROM relations p
        JOIN relations q ON p.related_cpr = q.related_cpr AND p.cpr <> q.cpr
        WHERE p.relation = 'child' AND q.relation = 'child'
    ) r ON r.cpr = l.cpr AND r.partner <> l.cpr
       AND r.valid_from <= l.period_end AND (r.valid_to IS NULL OR l.period_start < r.valid_to)
    JOIN tl pa ON pa.cpr = l.cpr AND pa.state = 'resident'
    JOIN tl qa ON qa.cpr = r.partner AND qa.state = 'resident' AND qa.address_id = pa.address_id
    WHERE l.benefit_code = 'BOERNETILSKUD_ENLIG'
      AND greatest(pa.vf, qa.vf, l.period_start)
          <= least(coalesce(pa.vt - 1, l.period_end), coalesce(qa.vt - 1, l.period_end),
                   l.period_end)
) GROUP BY cpr;

-- R06 overlapping income-replacement benefits, prorated in integer øre, half up
INSERT INTO cases
SELECT 'R06', cpr, min(shared_from), min(s), max(e), sum(
         least((2 * CAST(a1 * 100 AS HUGEINT) * d + n1) // (2 * n1),
               (2 * CAST(a2 * 100 AS HUGEINT) * d + n2) // (2 * n2))) / 100
FROM (
    SELECT a.cpr, a.amount AS a1, a.days AS n1, b.amount AS a2, b.days AS n2,
           greatest(a.period_start, b.period_start) AS shared_from,
           date_diff('day', greatest(a.period_start, b.period_start),
                     least(a.period_end, b.period_end)) + 1 AS d,
           least(a.period_start, b.period_start) AS s,
           greatest(a.period_end, b.period_end) AS e
    FROM net a JOIN net b
      ON a.cpr = b.cpr AND a.benefit_code < b.benefit_code
     AND a.period_start <= b.period_end AND b.period_start <= a.period_end
    WHERE a.benefit_code IN ({replacement}) AND b.benefit_code IN ({replacement})
) GROUP BY cpr;

-- R07 paid while disappeared
INSERT INTO cases
SELECT 'R07', cpr, arg_min(event_date, period_start), min(period_start), max(period_end), sum(amount)
FROM line_state WHERE state = 'disappeared' AND benefit_code IN ({residence}) GROUP BY cpr;

-- Rules R08-R11 of CONTRACT.md v2 section 4b, each in a block that
-- benchmarks/run_benchmarks.py includes only when the optional registers it
-- reads are delivered (the line "-- @reads ..." opens the block). Prorated
-- amounts are exact: integer øre, (2 * øre * k + n) // (2 * n), half up per
-- line. Placeholders: {work_excluded}, {stops}, {max_kwh}, {min_spell_days}.

-- @reads utility_readings
-- R08 no electricity used at the registered address: resident at one address A
-- from the first day of month m-2 through s, and electricity <= max_kwh at A
-- in each of m-2, m-1, m (a missing reading is not zero use).
CREATE OR REPLACE TEMP VIEW utility_readings AS
    SELECT * FROM read_parquet('{dir}/utility_readings.parquet')
    WHERE month <= DATE '{as_of}' AND utility = 'electricity';
CREATE OR REPLACE TEMP TABLE addr_spells AS
SELECT cpr, address_id, min(vf) AS vf, max(coalesce(vt, DATE '9999-12-31')) AS vt
FROM (
    SELECT *, sum(brk) OVER (PARTITION BY cpr ORDER BY vf) AS grp
    FROM (
        SELECT *, CASE WHEN state = 'resident' AND lag(state) OVER w = 'resident'
                        AND lag(address_id) OVER w = address_id THEN 0 ELSE 1 END AS brk
        FROM tl WINDOW w AS (PARTITION BY cpr ORDER BY vf)
    )
) WHERE state = 'resident' GROUP BY cpr, address_id, grp;
INSERT INTO cases
SELECT 'R08', cpr, arg_min(m2, period_start), min(period_start), max(period_end), sum(amount)
FROM (
    SELECT l.cpr, l.period_start, l.period_end, l.benefit_code, l.amount, l.m2
    FROM (
        SELECT n.*, CAST(date_trunc('month', n.period_start) - INTERVAL 2 MONTH AS DATE) AS m2
        FROM net n WHERE n.benefit_code IN ({residence})
    ) l
    JOIN addr_spells a ON a.cpr = l.cpr AND a.vf <= l.m2 AND l.period_start < a.vt
    JOIN utility_readings u ON u.address_id = a.address_id
         AND u.month BETWEEN l.m2 AND CAST(date_trunc('month', l.period_start) AS DATE)
         AND u.consumption <= {max_kwh}
    GROUP BY ALL
    HAVING count(*) = 3
) GROUP BY cpr;

-- @reads tenancies
-- R09 single-parent supplement while on a lease with another adult: rows of one
-- lease for P and for A != P hold on a common day t of [s, e], A is in persons
-- and 18 on t (born 29 February: 18 on 1 March in common years), and no child
-- relation links P and A, whatever its dates.
CREATE OR REPLACE TEMP VIEW tenancies AS
    SELECT * FROM read_parquet('{dir}/tenancies.parquet') WHERE valid_from <= DATE '{as_of}';
CREATE OR REPLACE TEMP VIEW child_links AS
    SELECT cpr AS a, related_cpr AS b FROM read_parquet('{dir}/relations.parquet')
    WHERE relation = 'child';
INSERT INTO cases
SELECT 'R09', cpr, min(period_start), min(period_start), max(period_end), sum(amount)
FROM (
    SELECT DISTINCT n.cpr, n.period_start, n.period_end, n.benefit_code, n.amount
    FROM net n
    JOIN tenancies mine ON mine.cpr = n.cpr
    JOIN tenancies other ON other.lease_id = mine.lease_id AND other.cpr <> n.cpr
    JOIN (
        SELECT cpr, CAST(birth_date + INTERVAL 18 YEAR AS DATE)
               + CASE WHEN month(birth_date) = 2 AND day(birth_date) = 29
                       AND day(birth_date + INTERVAL 18 YEAR) = 28 THEN 1 ELSE 0 END AS adult
        FROM persons
    ) a ON a.cpr = other.cpr
    WHERE n.benefit_code = 'BOERNETILSKUD_ENLIG'
      AND greatest(n.period_start, mine.valid_from, other.valid_from, a.adult)
          <= least(n.period_end, coalesce(mine.valid_to - 1, n.period_end),
                   coalesce(other.valid_to - 1, n.period_end))
      AND NOT EXISTS (
          SELECT 1 FROM child_links c
          WHERE (c.a = n.cpr AND c.b = other.cpr) OR (c.a = other.cpr AND c.b = n.cpr))
) GROUP BY cpr;

-- @reads inspections
-- R10 met at work during a company inspection: a flagged day d of a work-excluded
-- line has an inspection of P at an employer from which P's income for the month
-- of d is 0.00 or absent; amount = line * k / n, k = distinct flagged days.
CREATE OR REPLACE TEMP VIEW inspections AS
    SELECT * FROM read_parquet('{dir}/inspections.parquet')
    WHERE inspection_date <= DATE '{as_of}';
INSERT INTO cases
SELECT 'R10', cpr, min(first_day), min(period_start), max(period_end),
       CAST(sum((2 * CAST(amount * 100 AS HUGEINT) * k + days) // (2 * days))
            AS DECIMAL(38, 0)) * 0.01
FROM (
    SELECT n.cpr, n.period_start, n.period_end, n.benefit_code, n.amount, n.days,
           count(DISTINCT i.inspection_date) AS k, min(i.inspection_date) AS first_day
    FROM net n
    JOIN inspections i ON i.cpr = n.cpr
         AND i.inspection_date BETWEEN n.period_start AND n.period_end
    LEFT JOIN (
        SELECT cpr, employer_cvr, month, sum(gross_income_dkk) AS income FROM income GROUP BY ALL
    ) e ON e.cpr = n.cpr AND e.employer_cvr = i.employer_cvr
       AND e.month = CAST(date_trunc('month', i.inspection_date) AS DATE)
    WHERE n.benefit_code IN ({work_excluded}) AND coalesce(e.income, 0) = 0
    GROUP BY ALL
) GROUP BY cpr;

-- @reads custody
-- R11 paid while deprived of liberty: spells with start <= as_of, ending on as_of
-- when open or later, merged when they overlap or touch; spells of at least
-- min_spell_days count; amount = line * d / n, d = the line's days inside them.
CREATE OR REPLACE TEMP TABLE long_spells AS
SELECT cpr, min(start_date) AS s, max(end_date) AS e
FROM (
    SELECT *, sum(brk) OVER (PARTITION BY cpr ORDER BY start_date, end_date) AS grp
    FROM (
        SELECT *, CASE WHEN start_date <= max(end_date) OVER (
                            PARTITION BY cpr ORDER BY start_date, end_date
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + 1
                       THEN 0 ELSE 1 END AS brk
        FROM (
            SELECT cpr, start_date,
                   least(coalesce(end_date, DATE '{as_of}'), DATE '{as_of}') AS end_date
            FROM read_parquet('{dir}/custody.parquet') WHERE start_date <= DATE '{as_of}'
        )
    )
) GROUP BY cpr, grp
HAVING date_diff('day', min(start_date), max(end_date)) + 1 >= {min_spell_days};
INSERT INTO cases
SELECT 'R11', cpr,
       arg_min(spell_start, struct_pack(s := period_start, e := period_end, c := benefit_code)),
       min(period_start), max(period_end),
       CAST(sum((2 * CAST(amount * 100 AS HUGEINT) * d + days) // (2 * days))
            AS DECIMAL(38, 0)) * 0.01
FROM (
    SELECT n.cpr, n.period_start, n.period_end, n.benefit_code, n.amount, n.days,
           sum(date_diff('day', greatest(sp.s, n.period_start), least(sp.e, n.period_end)) + 1)
               AS d,
           min(sp.s) AS spell_start
    FROM net n JOIN long_spells sp ON sp.cpr = n.cpr
         AND sp.s <= n.period_end AND n.period_start <= sp.e
    WHERE n.benefit_code IN ({stops})
    GROUP BY ALL
) GROUP BY cpr;
