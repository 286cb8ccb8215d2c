"""The home domain: what this home's data switches on (``marts.feature_availability``).

The dashboards read it from the serving snapshot to tell, on a page whose data is absent,
which file would switch it on (they never import ``assets/``). The table behind it is
:data:`assets.features.FEATURES`.
"""

import dagster as dg

from assets.home.assets import feature_availability

defs = dg.Definitions(assets=[feature_availability])

# the marts this domain builds, for the serving snapshot to wait for
SERVED_MARTS = ("feature_availability",)
