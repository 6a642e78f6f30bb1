-- 10,000 workflows of tenant "default" in plughost's automate_workflows table (the schema the
-- automate-workflow plugin's migrations create), used by bench/workflow_list.sh. Created times
-- are distinct and spread over a year; one in ten is disabled; graphs are three-step chains.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO automate_workflows (id, tenant, name, slug, description, enabled, trigger_type,
  trigger_config, graph, graph_hash, workflow_version, created_at, updated_at)
SELECT
  lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
        || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
  'default',
  'Workflow ' || i,
  'workflow-' || i,
  'Routes events of kind ' || (i % 17) || ' to the right team',
  CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END,
  CASE i % 4 WHEN 0 THEN 'webhook' WHEN 1 THEN 'event' WHEN 2 THEN 'schedule' ELSE 'manual' END,
  '{"source":"stripe","event_type":"order.created"}',
  '{"nodes":[{"id":"log","type":"logging","config":{"message":"order {{ event.payload.order_id }}"}},'
    || '{"id":"check","type":"condition","config":{"expression":"event.payload.amount >= 100"}},'
    || '{"id":"out","type":"transform","config":{"output":{"lane":"priority"}}}],'
    || '"edges":[{"source":"log","target":"check"},{"source":"check","target":"out","condition":"true"}]}',
  lower(hex(randomblob(32))),
  1 + i % 3,
  strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i * 3137, 'unixepoch') || printf('.%06dZ', i * 7919 % 1000000),
  strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i * 3137 + 600, 'unixepoch') || printf('.%06dZ', i * 7919 % 1000000)
FROM n;
