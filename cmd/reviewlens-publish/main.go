// Command reviewlens-publish is the publish step alone, for a pod image:
// the same flags as reviewlens publish.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
)

func main() { cli.Main(cli.SingleApp(publishcmd.PublishStep)) }
