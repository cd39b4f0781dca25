// Command pause is the test cluster's pod sandbox process (k8s/cluster.sh
// builds it into an image FROM scratch, as no pause image can be pulled). It
// holds the sandbox's namespaces open, reaps the children it inherits as PID
// 1, and exits 0 on SIGTERM or SIGINT, like Kubernetes' own pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
