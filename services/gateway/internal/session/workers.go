package session

import (
	"time"

	"github.com/httvps/httvps/shared/workpool"
)

// workers carry the stream goroutines (a stream's connect and download, its upload, the spare
// connect), so a new stream starts on a grown stack.
var workers = workpool.New(256, time.Second)
