{{ config(materialized='table') }}
select customer, currency, count(*) as orders, sum(amount) as revenue
from {{ ref('stg_orders') }}
group by customer, currency
