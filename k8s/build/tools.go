//go:build tools

// Package build pins the Kubernetes components that k8s/build.sh compiles
// for the single-node test cluster (k8s/cluster.sh). It is its own module so
// that the processor's module never depends on Kubernetes.
package build

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
