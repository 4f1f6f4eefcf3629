DROP TABLE subscriptions;
DROP TABLE devices;
DROP TABLE plans;
DROP TABLE users;
