package integration

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/event-processor/event-processor/internal/connect/conntest"
	"github.com/event-processor/event-processor/processor"
)

// TestChartKafkaSecurity renders the chart with a Strimzi cluster's and
// KafkaUsers' Secrets, as docs/security.md shows, lays out the Secrets'
// files where the rendered volumes mount them (under a temporary root),
// and checks that the rendered environment is a configuration the
// processor accepts: the chart and the processor's options agree on every
// name and path. Secrets are mounted whole, never with subPath, so that
// rotations reach the pod.
func TestChartKafkaSecurity(t *testing.T) {
	helm := tool(t, "helm", "HELM", "go install helm.sh/helm/v3/cmd/helm@v3.19.0")
	ca, err := conntest.NewCA("cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	user, err := ca.Issue("event-processor", conntest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]map[string][]byte{ // as Strimzi writes them
		"my-cluster-cluster-ca-cert": {"ca.crt": ca.PEM},
		"event-processor":            {"user.crt": user.CertPEM, "user.key": user.KeyPEM, "password": []byte("s3cret")},
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []string // env variables that must be set
	}{
		{"mTLS", map[string]any{"kafka": map[string]any{"tls": map[string]any{
			"caSecret":     map[string]any{"name": "my-cluster-cluster-ca-cert"},
			"clientSecret": map[string]any{"name": "event-processor"},
		}}}, []string{"KAFKA_TLS", "KAFKA_TLS_CA_FILE", "KAFKA_TLS_CERT_FILE", "KAFKA_TLS_KEY_FILE"}},
		{"SCRAM-SHA-512", map[string]any{"kafka": map[string]any{
			"tls":  map[string]any{"caSecret": map[string]any{"name": "my-cluster-cluster-ca-cert"}},
			"sasl": map[string]any{"mechanism": "SCRAM-SHA-512", "username": "event-processor", "passwordSecret": map[string]any{"name": "event-processor"}},
		}}, []string{"KAFKA_TLS", "KAFKA_TLS_CA_FILE", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD_FILE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sts struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct {
								VolumeMounts []struct {
									Name      string `yaml:"name"`
									MountPath string `yaml:"mountPath"`
									SubPath   string `yaml:"subPath"`
								} `yaml:"volumeMounts"`
							} `yaml:"containers"`
							Volumes []struct {
								Name   string `yaml:"name"`
								Secret *struct {
									SecretName string `yaml:"secretName"`
									Items      []struct {
										Key  string `yaml:"key"`
										Path string `yaml:"path"`
									} `yaml:"items"`
								} `yaml:"secret"`
							} `yaml:"volumes"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			}
			docs := helmTemplate(t, helm, tc.values)
			rendered(t, docs, "StatefulSet", &sts)
			var full statefulSet
			rendered(t, docs, "StatefulSet", &full)
			env := full.container(t).environment(t, "event-processor-0")

			// The Secrets' files where the pod would see them.
			root := t.TempDir()
			pod := sts.Spec.Template.Spec
			mounts := make(map[string]string)
			for _, m := range pod.Containers[0].VolumeMounts {
				if m.SubPath != "" {
					t.Errorf("volume %s is mounted with subPath: a rotated Secret would never reach the pod", m.Name)
				}
				mounts[m.Name] = m.MountPath
			}
			for _, v := range pod.Volumes {
				if v.Secret == nil {
					continue
				}
				dir, ok := mounts[v.Name]
				if !ok {
					t.Fatalf("volume %s is not mounted", v.Name)
				}
				for _, it := range v.Secret.Items {
					b, ok := secrets[v.Secret.SecretName][it.Key]
					if !ok {
						t.Fatalf("volume %s wants key %s of Secret %s, which a Strimzi Secret does not have", v.Name, it.Key, v.Secret.SecretName)
					}
					if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := conntest.WriteFile(filepath.Join(root, dir, it.Path), b); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, name := range tc.want {
				if env[name] == "" {
					t.Errorf("%s is not set", name)
				}
			}
			// The processor's own reading of that environment, with the
			// paths under the temporary root.
			cfg := processor.DefaultConfig()
			fs := flag.NewFlagSet("run", flag.ContinueOnError)
			cfg.BindFlags(fs)
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) {
				v, ok := env[k]
				if ok && strings.HasPrefix(v, "/etc/kafka/") {
					v = filepath.Join(root, v)
				}
				return v, ok
			}
			if err := cfg.ApplyEnv(fs, lookup); err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the processor refuses the chart's configuration: %v\nenv: %v", err, env)
			}
			if got := cfg.Connect.Summary(); tc.name == "mTLS" && got != "tls, mTLS" || tc.name == "SCRAM-SHA-512" && got != "tls, sasl SCRAM-SHA-512 as event-processor" {
				t.Errorf("the processor would connect with %q", got)
			}
		})
	}
}
