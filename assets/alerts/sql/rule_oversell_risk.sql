-- Oversell risk: live listings of a SKU show more than the channel's ATS by
-- $oversell_warning_share (critical when a channel has none left). One alert per SKU however
-- many listings show too much: the listings go in the message. value_base is the sales an
-- oversold listing would have to cancel.
INSERT INTO alerts_raised BY NAME
SELECT 'oversell_risk' AS alert_type,
       'oversell_risk:' || o.sku AS alert_key,
       CASE WHEN bool_or(o.ats_units = 0) THEN 'critical' ELSE 'warning' END AS severity,
       o.sku || ' on ' || string_agg(DISTINCT o.channel_id, ', ' ORDER BY o.channel_id)
           AS subject,
       o.sku, min(o.channel_id) AS channel_id, any_value(pr.supplier_id) AS supplier_id,
       'excess_share' AS metric,
       max(o.excess_units / greatest(o.ats_units, 1)) AS metric_value,
       $oversell_warning_share AS threshold,
       sum(o.excess_units)::BIGINT AS units,
       sum(o.excess_units) * any_value(sp.unit_price_base) AS value,
       $base_currency AS currency,
       sum(o.excess_units) * any_value(sp.unit_price_base) AS value_base,
       o.sku || ': listed beyond what is available to sell on '
           || string_agg(format('{} ({}: listed {}, available {})', o.channel_id, o.channel_sku,
                                o.listed_quantity, o.ats_units), '; '
                         ORDER BY o.channel_id, o.channel_sku) AS message
FROM marts.oversell_risk AS o
LEFT JOIN alert_selling_price AS sp ON sp.sku = o.sku
LEFT JOIN core.products AS pr ON pr.sku = o.sku
WHERE coalesce(o.listing_status, 'active') <> 'inactive'  -- a hidden listing cannot oversell
  AND o.excess_units > 0
  -- nothing left to sell, or a gap too big for the next availability feed to be the fix
  AND (o.ats_units = 0 OR o.excess_units >= $oversell_warning_share * o.ats_units)
GROUP BY o.sku
