CREATE INDEX subscriptions_active_valid_until_idx ON subscriptions (valid_until) WHERE status = 'active';
