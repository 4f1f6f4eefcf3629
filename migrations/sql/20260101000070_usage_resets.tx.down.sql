DROP TABLE usage_resets;
