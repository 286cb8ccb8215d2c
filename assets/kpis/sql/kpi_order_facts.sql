-- One row per order (channel x order id): what a manager counts. Built from the order line
-- facts, so "shipped" means the same thing. An order is shipped when every one of its
-- non-cancelled lines has shipped, at the time its LAST line shipped (its first line's time
-- is the second figure); delivered likewise. Order-level money (shipping charge, order
-- discount) is counted once per order, whether it is given on one line or repeated on each.
-- Days, weeks and months are the line facts' local days of the reporting time zone (the
-- order's earliest line; the ship and delivery day of its last line).
CREATE OR REPLACE TABLE marts.kpi_order_facts AS
WITH order_lines AS (
    SELECT * FROM marts.kpi_order_line_facts
),
orders AS (
    SELECT
        channel_id,
        order_id,
        -- lines of one order that disagree take the first of marketplace, merchant, store
        min(fulfilled_by) AS fulfilled_by,
        min(ordered_at) AS ordered_at,
        min(order_date) AS order_date,
        min(order_week) AS order_week,
        min(order_month) AS order_month,
        bool_and(is_cancelled) AS is_cancelled,
        count(*) FILTER (WHERE NOT is_cancelled) AS lines,
        coalesce(sum(ordered_units) FILTER (WHERE NOT is_cancelled), 0)::BIGINT AS units,
        count(*) FILTER (WHERE is_cancelled) AS lines_cancelled,
        coalesce(sum(ordered_units) FILTER (WHERE is_cancelled), 0)::BIGINT AS units_cancelled,
        min(currency) AS currency,
        sum(line_amount) FILTER (WHERE NOT is_cancelled) AS goods_amount,
        sum(line_amount_base) FILTER (WHERE NOT is_cancelled) AS goods_amount_base,
        -- an amount without an FX rate to the base currency has no base amount: the order's
        -- base figures are then unknown, never 0
        bool_or(line_amount_base IS NULL AND line_amount IS NOT NULL)
            FILTER (WHERE NOT is_cancelled) AS has_unconverted_lines,
        -- order-level money: the value of the latest line that carries one
        arg_max(order_shipping_amount, updated_at)
            FILTER (WHERE order_shipping_amount IS NOT NULL) AS shipping_amount,
        arg_max(order_shipping_amount_base, updated_at)
            FILTER (WHERE order_shipping_amount IS NOT NULL) AS shipping_amount_base,
        arg_max(order_discount_amount, updated_at)
            FILTER (WHERE order_discount_amount IS NOT NULL) AS discount_amount,
        arg_max(order_discount_amount_base, updated_at)
            FILTER (WHERE order_discount_amount IS NOT NULL) AS discount_amount_base,
        arg_max(promised_delivery_date, updated_at)
            FILTER (WHERE promised_delivery_date IS NOT NULL) AS promised_delivery_date,
        min(shipped_at) FILTER (WHERE NOT is_cancelled) AS first_shipped_at,
        -- the last line's time, only once every live line has shipped
        CASE WHEN count(*) FILTER (WHERE NOT is_cancelled AND shipped_at IS NULL) = 0
             THEN max(shipped_at) FILTER (WHERE NOT is_cancelled) END AS shipped_at,
        CASE WHEN count(*) FILTER (WHERE NOT is_cancelled AND shipped_at IS NULL) = 0
             THEN max(ship_date) FILTER (WHERE NOT is_cancelled) END AS ship_date,
        CASE WHEN count(*) FILTER (WHERE NOT is_cancelled AND delivered_at IS NULL) = 0
             THEN max(delivered_at) FILTER (WHERE NOT is_cancelled) END AS delivered_at,
        CASE WHEN count(*) FILTER (WHERE NOT is_cancelled AND delivered_at IS NULL) = 0
             THEN max(delivery_date) FILTER (WHERE NOT is_cancelled) END AS delivery_date,
        -- every live line shipped by the channel's word, time known or not
        bool_and(shipped_units > 0) FILTER (WHERE NOT is_cancelled) AS is_shipped
    FROM order_lines
    GROUP BY channel_id, order_id
),
money AS (
    SELECT
        *,
        goods_amount - coalesce(discount_amount, 0) AS revenue,
        CASE WHEN NOT coalesce(has_unconverted_lines, false)
             THEN goods_amount_base - coalesce(discount_amount_base, 0) END AS revenue_base
    FROM orders
)
SELECT
    channel_id, order_id, fulfilled_by, is_cancelled,
    ordered_at, order_date, order_week, order_month,
    lines, units, lines_cancelled, units_cancelled,
    currency,
    revenue,
    shipping_amount,
    discount_amount,
    revenue_base,
    shipping_amount_base,
    discount_amount_base,
    revenue_base + coalesce(shipping_amount_base, 0) AS revenue_incl_shipping_base,
    revenue + coalesce(shipping_amount, 0) AS revenue_incl_shipping,
    coalesce(is_shipped, false) AS is_shipped,
    first_shipped_at,
    shipped_at, ship_date,
    delivered_at, delivery_date,
    promised_delivery_date,
    -- a store hands goods over, it does not ship them: no ship or delivery time
    CASE WHEN fulfilled_by <> 'store' AND first_shipped_at >= ordered_at
         THEN date_diff('second', ordered_at, first_shipped_at) / 3600.0 END
        AS hours_to_first_ship,
    CASE WHEN fulfilled_by <> 'store' AND shipped_at >= ordered_at
         THEN date_diff('second', ordered_at, shipped_at) / 3600.0 END AS hours_to_ship,
    CASE WHEN fulfilled_by <> 'store' AND delivered_at >= ordered_at
         THEN date_diff('second', ordered_at, delivered_at) / 3600.0 END AS hours_to_deliver,
    -- click-and-collect: ordered -> picked up in the store (a counter sale is handed over
    -- at once and has no pick-up time)
    CASE WHEN fulfilled_by = 'store' AND delivered_at > ordered_at
         THEN date_diff('second', ordered_at, delivered_at) / 3600.0 END AS hours_to_pickup,
    -- delivered after the promised (local) date; unknown without a promise or a delivery
    CASE WHEN fulfilled_by <> 'store' AND promised_delivery_date IS NOT NULL
              AND delivered_at IS NOT NULL
         THEN delivery_date > promised_delivery_date END AS delivered_late
FROM money
