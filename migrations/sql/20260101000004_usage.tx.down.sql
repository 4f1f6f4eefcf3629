DROP TABLE usage_limit_events;
DROP TABLE usage_periods;
DROP TABLE sessions;
