// Command reviewlens-queue is the queue step alone, for a pod image: the
// same flags as reviewlens queue.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
)

func main() { cli.Main(cli.SingleApp(publishcmd.QueueStep)) }
