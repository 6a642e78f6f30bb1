-- The demo's orders as loaded from the CSV files of source `sales`.
select order_id, customer, amount, currency, ordered_on, shipped_at
from {{ source('sales', 'sales') }}
