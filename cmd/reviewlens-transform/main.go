// Command reviewlens-transform is the transform step alone, for a pod
// image: the same flags as reviewlens transform.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
)

func main() { cli.Main(cli.SingleApp(transformcmd.Step)) }
