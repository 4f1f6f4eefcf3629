module github.com/httvps/httvps/services/client

go 1.26.0

require (
	github.com/fasthttp/websocket v1.5.8
	github.com/httvps/httvps/schemas v0.0.0
	github.com/httvps/httvps/shared v0.0.0
	github.com/rs/zerolog v1.35.1
)

require (
	github.com/andybalholm/brotli v1.1.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/savsgio/gotils v0.0.0-20240303185622-093b76447511 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.52.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace (
	github.com/httvps/httvps/schemas => ../../schemas
	github.com/httvps/httvps/shared => ../../shared
)
