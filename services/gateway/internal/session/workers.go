package session

import (
	"time"

	"github.com/httvps/httvps/shared/workpool"
)

// workers carry the stream goroutines (a stream's connect and download, the spare connect) and
// uploaders its upload, so a new stream starts on a grown stack. They are two pools because a
// goroutine keeps the stack of the largest task it ran: an upload on a goroutine that once
// connected would hold a connect-sized stack for the stream's life (memory the budget does not
// charge).
var (
	workers   = workpool.New(64, time.Second)
	uploaders = workpool.New(64, time.Second)
)
