package migrations

const LockKey = lockKey
