DROP TABLE IF EXISTS gateway_boots;
