-- One row per order line (all statuses): what was ordered, what shipped and when, what came
-- back. Every order-side KPI (fulfillment time, on-time ship, fill rate, revenue, returns)
-- is computed from this table (per order through kpi_order_facts), so they all agree on
-- what "shipped" and "returned" mean. Days, weeks and months are local days of the reporting
-- time zone $timezone (core keeps UTC).
CREATE OR REPLACE TABLE marts.kpi_order_line_facts AS
WITH as_of AS (
    -- the data's own "now": the latest lifecycle time shelfwise has seen (never the wall
    -- clock, so the same warehouse always gives the same marts)
    SELECT greatest(
        (SELECT max(updated_at) FROM core.order_lines),
        (SELECT max(event_at) FROM core.fulfillment_events)
    ) AS as_of_at
),
line_events AS (
    -- a line can ship in several parcels: it counts as shipped when its last parcel left
    SELECT
        e.channel_id, e.order_id, coalesce(k.line_id, e.line_id) AS line_id,
        sum(quantity) FILTER (WHERE event_type = 'shipped') AS shipped_units,
        max(event_at) FILTER (WHERE event_type = 'shipped') AS shipped_at,
        max(event_at) FILTER (WHERE event_type = 'delivered') AS delivered_at,
        arg_max(location_id, event_at) FILTER (WHERE event_type = 'shipped') AS ship_location_id,
        arg_max(carrier, event_at) FILTER (WHERE event_type = 'shipped') AS carrier
    FROM core.fulfillment_events AS e
    -- the order line an event belongs to: the web shop and Amazon print the platform's item
    -- id on shipments, not the order export's line id (kpi_order_line_links)
    LEFT JOIN marts.kpi_order_line_links AS k
      ON k.channel_id = e.channel_id AND k.order_id = e.order_id
     AND k.referenced_line_id = e.line_id AND k.sku = e.sku
    GROUP BY ALL
),
returned AS (
    -- returns linked to their order line per channel (kpi_return_line_links: by line id, else
    -- by order id + SKU), refunds in the base currency
    SELECT channel_id, order_id, line_id,
           sum(returned_units) AS returned_units,
           sum(returned_value_base) AS returned_value_base
    FROM marts.kpi_return_line_links
    WHERE line_id IS NOT NULL
    GROUP BY ALL
),
line_lifecycle AS (
    -- warehouse events win; a channel-reported shipment (marketplace-fulfilled, stores)
    -- fills in where no event exists
    SELECT
        l.channel_id, l.order_id, l.line_id, l.sku,
        p.category, p.supplier_id,
        -- who hands the line over; a POS channel's sales are store sales when not said
        coalesce(l.fulfilled_by, CASE WHEN c.channel_type = 'pos' THEN 'store' END, 'merchant')
            AS fulfilled_by,
        coalesce(e.ship_location_id, l.location_id) AS location_id,
        e.carrier,
        l.status,
        l.status = 'cancelled' AS is_cancelled,
        l.quantity AS ordered_units,
        l.currency,
        l.line_amount,
        l.line_amount_base,
        l.order_shipping_amount, l.order_shipping_amount_base,
        l.order_discount_amount, l.order_discount_amount_base,
        l.promised_delivery_date,
        l.updated_at,
        l.ordered_at,
        l.promised_ship_by,
        coalesce(e.shipped_at, l.shipped_at) AS shipped_at,
        coalesce(e.delivered_at, l.delivered_at) AS delivered_at,
        least(
            l.quantity,
            coalesce(
                e.shipped_units,
                CASE WHEN l.shipped_at IS NOT NULL OR l.status IN ('shipped', 'delivered')
                     THEN l.quantity ELSE 0 END
            )
        ) AS shipped_units,
        coalesce(r.returned_units, 0) AS returned_units,
        -- no return: 0; a return whose value has no FX rate stays unknown (NULL), not 0
        CASE WHEN r.returned_units IS NULL THEN 0 ELSE r.returned_value_base END
            AS returned_value_base,
        -- when a line is due: its promise, else ordered + the settle days
        coalesce(l.promised_ship_by, l.ordered_at + to_days($settle_days)) AS due_at
    FROM core.order_lines AS l
    LEFT JOIN line_events AS e USING (channel_id, order_id, line_id)
    LEFT JOIN returned AS r USING (channel_id, order_id, line_id)
    LEFT JOIN core.products AS p ON p.sku = l.sku
    LEFT JOIN core.channels AS c ON c.channel_id = l.channel_id
),
local_times AS (
    -- the reporting time zone's wall clock (core timestamps are UTC without a zone)
    SELECT
        *,
        local_time(ordered_at, $timezone) AS ordered_local,
        local_time(shipped_at, $timezone) AS shipped_local,
        local_time(delivered_at, $timezone) AS delivered_local
    FROM line_lifecycle
)
SELECT
    channel_id, order_id, line_id, sku, category, supplier_id, location_id,
    coalesce(carrier, '(unknown)') AS carrier,
    fulfilled_by,
    status, is_cancelled,
    ordered_at,
    ordered_local::DATE AS order_date,
    date_trunc('week', ordered_local)::DATE AS order_week,
    date_trunc('month', ordered_local)::DATE AS order_month,
    promised_ship_by,
    shipped_at,
    shipped_local::DATE AS ship_date,
    delivered_at,
    delivered_local::DATE AS delivery_date,
    ordered_units,
    shipped_units::BIGINT AS shipped_units,
    currency,
    line_amount,
    line_amount_base,
    order_shipping_amount, order_shipping_amount_base,
    order_discount_amount, order_discount_amount_base,
    promised_delivery_date,
    updated_at,
    -- the shipped share of the line's value (partial shipments ship part of the value)
    CASE WHEN ordered_units > 0
         THEN line_amount_base * shipped_units / ordered_units END AS shipped_value_base,
    returned_units::BIGINT AS returned_units,
    returned_value_base,
    -- a shipment before the order (bad data) gives no duration rather than a negative one;
    -- a store hands goods over, it does not ship them: no ship or delivery time
    CASE WHEN shipped_at >= ordered_at AND fulfilled_by <> 'store'
         THEN date_diff('second', ordered_at, shipped_at) / 3600.0 END AS hours_to_ship,
    CASE WHEN delivered_at >= ordered_at AND fulfilled_by <> 'store'
         THEN date_diff('second', ordered_at, delivered_at) / 3600.0 END AS hours_to_deliver,
    due_at,
    due_at <= as_of_at AS is_due,
    -- on time: shipped by the promise; unshipped past the promise is late; not yet due or
    -- no promise: unknown (NULL)
    CASE
        WHEN is_cancelled OR promised_ship_by IS NULL THEN NULL
        WHEN shipped_at IS NOT NULL THEN shipped_at <= promised_ship_by
        WHEN promised_ship_by <= as_of_at THEN false
    END AS shipped_on_time,
    as_of_at
FROM local_times, as_of
