{{/*
Expand the name of the chart.
*/}}
{{- define "event-processor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "event-processor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "event-processor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "event-processor.labels" -}}
helm.sh/chart: {{ include "event-processor.chart" . }}
{{ include "event-processor.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "event-processor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "event-processor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "event-processor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "event-processor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository, then @digest when set, else :tag (default appVersion).
*/}}
{{- define "event-processor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The bootstrap servers as one comma-separated string; the value may be a string or a list.
*/}}
{{- define "event-processor.bootstrapServers" -}}
{{- if kindIs "slice" .Values.kafka.bootstrapServers }}
{{- join "," .Values.kafka.bootstrapServers }}
{{- else }}
{{- .Values.kafka.bootstrapServers }}
{{- end }}
{{- end }}

{{/*
HTTP_ADDR: every interface of the pod's own network; with hostNetwork only the node's address
(brackets suit IPv4 and IPv6 alike); with portPerPod, containerPort + the pod's ordinal, written as
containerPort / 10 followed by the ordinal's one digit (the chart checks both bounds).
*/}}
{{- define "event-processor.httpAddr" -}}
{{- if .Values.portPerPod }}
{{- printf "[$(POD_IP)]:%d$(POD_INDEX)" (div (int .Values.containerPort) 10) }}
{{- else if .Values.hostNetwork }}
{{- printf "[$(POD_IP)]:%d" (int .Values.containerPort) }}
{{- else }}
{{- printf ":%d" (int .Values.containerPort) }}
{{- end }}
{{- end }}

{{/*
The whole milliseconds of a Go duration such as 10s, 1m30s or 100ms.
*/}}
{{- define "event-processor.milliseconds" -}}
{{- $units := dict "h" 3600.0 "m" 60.0 "s" 1.0 "ms" 0.001 "us" 0.000001 "µs" 0.000001 "ns" 0.000000001 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" (toString .) -1 }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . | float64 }}
{{- $unit := regexReplaceAll "^[0-9]+(\\.[0-9]+)?" . "" }}
{{- $total = addf $total (mulf $number (get $units $unit)) }}
{{- end }}
{{- floor (mulf $total 1000.0) | int64 }}
{{- end }}

{{/*
Checks that values.schema.json cannot express; each fails the render with what to change.
*/}}
{{- define "event-processor.validate" -}}
{{- $shutdown := include "event-processor.milliseconds" .Values.shutdownTimeout | int64 }}
{{- if le (mul .Values.terminationGracePeriodSeconds 1000) (add $shutdown 2000) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdownTimeout (%s) plus 2s for closing the HTTP server, or Kubernetes kills the pod before it commits or aborts its open transaction" (int .Values.terminationGracePeriodSeconds) .Values.shutdownTimeout) }}
{{- end }}
{{- $interval := include "event-processor.milliseconds" .Values.transaction.maxInterval | int64 }}
{{- $timeout := include "event-processor.milliseconds" .Values.transaction.timeout | int64 }}
{{- if le $timeout $interval }}
{{- fail (printf "transaction.timeout (%s) must exceed transaction.maxInterval (%s)" .Values.transaction.timeout .Values.transaction.maxInterval) }}
{{- end }}
{{- if gt $timeout 900000 }}
{{- fail (printf "transaction.timeout (%s) must be at most 15m, the broker's default transaction.max.timeout.ms" .Values.transaction.timeout) }}
{{- end }}
{{- if eq .Values.topics.output .Values.topics.input }}
{{- fail "topics.output must differ from topics.input, or every output would be read again" }}
{{- end }}
{{- if eq .Values.topics.error .Values.topics.input }}
{{- fail "topics.error must differ from topics.input, or every error event would be read again" }}
{{- end }}
{{- if .Values.portPerPod }}
{{- if not .Values.hostNetwork }}
{{- fail "portPerPod gives each pod its own port of the node: it needs hostNetwork=true" }}
{{- end }}
{{- if ne (mod (int .Values.containerPort) 10) 0 }}
{{- fail (printf "with portPerPod, containerPort (%d) must be a multiple of 10: pod N listens on containerPort + N" (int .Values.containerPort)) }}
{{- end }}
{{- $most := ternary (int .Values.keda.maxReplicas) (int .Values.replicaCount) .Values.keda.enabled }}
{{- if gt $most 10 }}
{{- fail (printf "with portPerPod, at most 10 pods fit (ports containerPort to containerPort + 9); %s is %d" (ternary "keda.maxReplicas" "replicaCount" .Values.keda.enabled) $most) }}
{{- end }}
{{- if gt (add (int .Values.containerPort) 9) 65535 }}
{{- fail (printf "with portPerPod, containerPort (%d) + 9 must be a port (at most 65535)" (int .Values.containerPort)) }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
{{- fail "serviceMonitor needs one port for every pod, and portPerPod gives each its own: scrape the pods another way (e.g. a PodMonitor per port), or run one pod per node without portPerPod" }}
{{- end }}
{{- end }}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicas) (int .Values.keda.maxReplicas)) }}
{{- fail (printf "keda.minReplicas (%d) must not exceed keda.maxReplicas (%d)" (int .Values.keda.minReplicas) (int .Values.keda.maxReplicas)) }}
{{- end }}
{{- end }}
