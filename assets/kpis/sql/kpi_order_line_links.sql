-- Every order-line reference that returns and fulfillment events make, and the order line it
-- belongs to. Channels key a line differently in their returns / shipment exports than in
-- their order export (docs/kpis.md, "Linking returns and shipments to order lines"): the web
-- shop and Amazon print the platform's order-item id ("11000001609734") while their order
-- exports know the line only by its position ("1") or its SKU. So a reference links by
-- (order id, line id) where the ids agree, else by (order id, SKU) to the order's first line
-- of that SKU; line_id and linked_by are NULL when it links to no line.
CREATE OR REPLACE TABLE marts.kpi_order_line_links AS
WITH referenced AS (
    SELECT channel_id, order_id, line_id, sku FROM core.returns
    UNION
    SELECT channel_id, order_id, line_id, sku FROM core.fulfillment_events
),
first_line_of_sku AS (
    -- an order holding one SKU on two lines: references by SKU go to the first line (the
    -- rates by channel, SKU and reason are the same either way)
    SELECT channel_id, order_id, sku, line_id
    FROM core.order_lines
    QUALIFY row_number() OVER (
        PARTITION BY channel_id, order_id, sku
        ORDER BY try_cast(line_id AS BIGINT) NULLS LAST, line_id
    ) = 1
)
SELECT
    r.channel_id,
    r.order_id,
    r.line_id AS referenced_line_id,  -- as the returns / shipment export printed it
    r.sku,
    coalesce(by_id.line_id, by_sku.line_id) AS line_id,  -- the order line's own id
    CASE WHEN by_id.line_id IS NOT NULL THEN 'line id'
         WHEN by_sku.line_id IS NOT NULL THEN 'order id + SKU' END AS linked_by
FROM referenced AS r
LEFT JOIN core.order_lines AS by_id
  ON by_id.channel_id = r.channel_id AND by_id.order_id = r.order_id
 AND by_id.line_id = r.line_id
LEFT JOIN first_line_of_sku AS by_sku
  ON by_id.line_id IS NULL
 AND by_sku.channel_id = r.channel_id AND by_sku.order_id = r.order_id AND by_sku.sku = r.sku
ORDER BY r.channel_id, r.order_id, referenced_line_id
