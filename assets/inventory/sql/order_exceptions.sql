-- One row per order line x exception: the lines that need a person.
CREATE OR REPLACE TABLE marts.order_exceptions AS
WITH shipped_events AS (
    SELECT channel_id, order_id, line_id, min(event_at) AS first_shipped_at
    FROM core.fulfillment_events WHERE event_type = 'shipped'
    GROUP BY channel_id, order_id, line_id
),
shipped_lines AS (
    SELECT ol.*, coalesce(ol.shipped_at, se.first_shipped_at) AS shipped_on
    FROM core.order_lines AS ol
    LEFT JOIN shipped_events AS se USING (channel_id, order_id, line_id)
    WHERE ol.status IN ('shipped', 'delivered') OR ol.shipped_at IS NOT NULL
       OR se.first_shipped_at IS NOT NULL
),
serving_ats AS (  -- free units each location serving a channel still has after its own orders
    SELECT cl.channel_id, a.sku, a.location_id, a.ats_units
    FROM core.channel_locations AS cl
    JOIN marts.ats_by_sku_location AS a ON a.location_id = cl.location_id AND NOT a.is_bundle
),
unfillable AS (
    SELECT oa.*
    FROM marts.order_allocations AS oa
    WHERE oa.is_paid AND oa.shortfall_units > 0 AND oa.location_id IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM serving_ats AS s
          WHERE s.channel_id = oa.channel_id AND s.sku = oa.sku
            AND s.location_id <> oa.location_id AND s.ats_units >= oa.shortfall_units)
),
exceptions AS (
    SELECT 'paid, no location can fill' AS exception, u.channel_id, u.order_id, u.line_id,
           any_value(u.order_sku) AS sku, any_value(u.status) AS status,
           any_value(u.ordered_at) AS ordered_at, any_value(u.paid_at) AS paid_at,
           NULL::TIMESTAMP AS shipped_at,
           string_agg(u.sku || ' short ' || u.shortfall_units || ' of ' || u.units || ' at '
                      || u.location_id, '; ' ORDER BY u.sku) AS detail
    FROM unfillable AS u
    GROUP BY u.channel_id, u.order_id, u.line_id
    UNION ALL
    SELECT 'no location serves the channel', channel_id, order_id, line_id,
           any_value(order_sku), any_value(status), any_value(ordered_at), any_value(paid_at),
           NULL, 'channel ' || channel_id || ' has no row in channel_locations'
    FROM marts.order_allocations
    WHERE location_id IS NULL
    GROUP BY channel_id, order_id, line_id
    UNION ALL
    SELECT 'shipped, not paid', channel_id, order_id, line_id, sku, status, ordered_at,
           paid_at, shipped_on, 'shipped ' || quantity || ' units with no payment recorded'
    FROM shipped_lines
    WHERE paid_at IS NULL AND cancelled_at IS NULL
    UNION ALL
    SELECT 'shipped after cancellation', channel_id, order_id, line_id, sku, status,
           ordered_at, paid_at, shipped_on,
           'cancelled ' || CAST(cancelled_at AS VARCHAR) || ', shipped '
               || CAST(shipped_on AS VARCHAR)
    FROM shipped_lines
    WHERE cancelled_at IS NOT NULL
)
SELECT * FROM exceptions
ORDER BY exception, channel_id, order_id, line_id
