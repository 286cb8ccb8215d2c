-- Every order-line reference that returns and fulfillment events make, and the order line it
-- belongs to. Channels key a line differently in their returns / shipment exports than in
-- their order export (docs/kpis.md, "Linking returns and shipments to order lines"): the web
-- shop and Amazon print the platform's order-item id ("11000001609734") while their order
-- exports know the line only by its position ("1") or its SKU. So a reference links by
-- (order id, line id) where the ids agree, else by (order id, SKU): an order holding one SKU
-- on two lines prints two item ids, and the n-th of them (numeric ids in number order, as
-- platforms number the items of an order) is the n-th order line of that SKU (line numbers
-- in number order), so each line keeps its own shipment; a reference beyond the order's
-- lines of that SKU goes to the first one. line_id and linked_by are NULL when it links to
-- no line.
CREATE OR REPLACE TABLE marts.kpi_order_line_links AS
WITH referenced AS (
    SELECT channel_id, order_id, line_id, sku FROM core.returns
    UNION
    SELECT channel_id, order_id, line_id, sku FROM core.fulfillment_events
),
by_id AS (
    SELECT r.*, l.line_id AS order_line_id
    FROM referenced AS r
    LEFT JOIN core.order_lines AS l
      ON l.channel_id = r.channel_id AND l.order_id = r.order_id AND l.line_id = r.line_id
),
positions AS (
    -- within each order and SKU, the references no order line carries and the order's own
    -- lines, each numbered in id order (line ids are unique in an order: no ties there)
    SELECT kind, channel_id, order_id, sku, line_id,
           dense_rank() OVER (
               PARTITION BY kind, channel_id, order_id, sku
               ORDER BY try_cast(line_id AS BIGINT) NULLS LAST, line_id
           ) AS position
    FROM (
        SELECT 'reference' AS kind, channel_id, order_id, sku, line_id
        FROM by_id WHERE order_line_id IS NULL
        UNION ALL
        SELECT 'line', channel_id, order_id, sku, line_id FROM core.order_lines
    )
),
unmatched_ranked AS (SELECT * FROM positions WHERE kind = 'reference'),
lines_of_sku AS (SELECT * FROM positions WHERE kind = 'line'),
by_sku AS (
    SELECT u.channel_id, u.order_id, u.line_id AS referenced_line_id, u.sku,
           coalesce(same_position.line_id, first_line.line_id) AS line_id
    FROM unmatched_ranked AS u
    LEFT JOIN lines_of_sku AS same_position
      ON same_position.channel_id = u.channel_id AND same_position.order_id = u.order_id
     AND same_position.sku = u.sku AND same_position.position = u.position
    LEFT JOIN lines_of_sku AS first_line
      ON first_line.channel_id = u.channel_id AND first_line.order_id = u.order_id
     AND first_line.sku = u.sku AND first_line.position = 1
)
SELECT
    b.channel_id,
    b.order_id,
    b.line_id AS referenced_line_id,  -- as the returns / shipment export printed it
    b.sku,
    coalesce(b.order_line_id, s.line_id) AS line_id,  -- the order line's own id
    CASE WHEN b.order_line_id IS NOT NULL THEN 'line id'
         WHEN s.line_id IS NOT NULL THEN 'order id + SKU' END AS linked_by
FROM by_id AS b
LEFT JOIN by_sku AS s
  ON b.order_line_id IS NULL
 AND s.channel_id = b.channel_id AND s.order_id = b.order_id
 AND s.referenced_line_id = b.line_id AND s.sku = b.sku
ORDER BY b.channel_id, b.order_id, referenced_line_id
