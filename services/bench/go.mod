module github.com/httvps/httvps/services/bench

go 1.26.0

require (
	github.com/google/uuid v1.6.0
	github.com/httvps/httvps/schemas v0.0.0
	github.com/httvps/httvps/services/client v0.0.0
	github.com/httvps/httvps/services/gateway v0.0.0
	github.com/httvps/httvps/services/httvps v0.0.0
	github.com/httvps/httvps/shared v0.0.0
	github.com/nats-io/nats.go v1.55.0
	github.com/prometheus/client_golang v1.25.0
	github.com/rs/zerolog v1.35.1
	github.com/uptrace/bun v1.2.18
)

require (
	github.com/Jigsaw-Code/outline-sdk v0.0.18-0.20241106233708-faffebb12629 // indirect
	github.com/Jigsaw-Code/outline-ss-server v1.9.2 // indirect
	github.com/andybalholm/brotli v1.1.0 // indirect
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fasthttp/websocket v1.5.8 // indirect
	github.com/gofiber/contrib/websocket v1.3.4 // indirect
	github.com/gofiber/fiber/v2 v2.52.15 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/httvps/httvps/migrations v0.0.0 // indirect
	github.com/httvps/httvps/services/accounts v0.0.0 // indirect
	github.com/httvps/httvps/services/edge v0.0.0 // indirect
	github.com/httvps/httvps/services/node-registry v0.0.0 // indirect
	github.com/httvps/httvps/services/outline-agent v0.0.0 // indirect
	github.com/httvps/httvps/services/usage-aggregator v0.0.0 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.16 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nats-server/v2 v2.15.2 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/oschwald/geoip2-golang v1.11.0 // indirect
	github.com/oschwald/maxminddb-golang v1.13.1 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/puzpuzpuz/xsync/v3 v3.5.1 // indirect
	github.com/riobard/go-bloom v0.0.0-20200614022211-cdc8013cb5b3 // indirect
	github.com/rivo/uniseg v0.4.4 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	github.com/savsgio/gotils v0.0.0-20240303185622-093b76447511 // indirect
	github.com/shadowsocks/go-shadowsocks2 v0.1.5 // indirect
	github.com/tmthrgd/go-hex v0.0.0-20190904060850-447a3041c3bc // indirect
	github.com/uptrace/bun/dialect/pgdialect v1.2.18 // indirect
	github.com/uptrace/bun/driver/pgdriver v1.2.18 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.52.0 // indirect
	github.com/valyala/tcplisten v1.0.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.opentelemetry.io/otel v1.40.0 // indirect
	go.opentelemetry.io/otel/trace v1.40.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
	mellium.im/sasl v0.3.2 // indirect
)

replace (
	github.com/httvps/httvps/migrations => ../../migrations
	github.com/httvps/httvps/schemas => ../../schemas
	github.com/httvps/httvps/services/accounts => ../accounts
	github.com/httvps/httvps/services/client => ../client
	github.com/httvps/httvps/services/edge => ../edge
	github.com/httvps/httvps/services/gateway => ../gateway
	github.com/httvps/httvps/services/httvps => ../httvps
	github.com/httvps/httvps/services/node-registry => ../node-registry
	github.com/httvps/httvps/services/outline-agent => ../outline-agent
	github.com/httvps/httvps/services/usage-aggregator => ../usage-aggregator
	github.com/httvps/httvps/shared => ../../shared
)
