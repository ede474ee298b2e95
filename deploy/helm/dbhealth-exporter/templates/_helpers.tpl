{{/* The chart's name, or nameOverride. */}}
{{- define "dbhealth-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The objects' name: fullnameOverride, else the release name when it already
holds the chart's name, else "<release>-<chart>". Truncated to 63
characters, the limit of some name fields.
*/}}
{{- define "dbhealth-exporter.fullname" -}}
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

{{/* The labels every object carries. */}}
{{- define "dbhealth-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dbhealth-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select this release's pods and Service. */}}
{{- define "dbhealth-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dbhealth-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The image, by digest when one is given. */}}
{{- define "dbhealth-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The Secret holding the connection string. */}}
{{- define "dbhealth-exporter.dsnSecretName" -}}
{{- .Values.dsnSecret.name | default (printf "%s-dsn" (include "dbhealth-exporter.fullname" .)) }}
{{- end }}

{{/* The metrics path: /metrics, or --web.telemetry-path from extraArgs. */}}
{{- define "dbhealth-exporter.telemetryPath" -}}
{{- $path := "/metrics" }}
{{- range .Values.extraArgs }}
{{- if hasPrefix "--web.telemetry-path=" . }}
{{- $path = trimPrefix "--web.telemetry-path=" . }}
{{- end }}
{{- end }}
{{- $path }}
{{- end }}

{{/*
terminationGracePeriodSeconds, refused when shorter than the drain
(shutdownDelaySeconds) plus the 10s the exporter then gives in-flight
requests.
*/}}
{{- define "dbhealth-exporter.gracePeriod" -}}
{{- $drain := int .Values.shutdownDelaySeconds }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- if lt $grace (add $drain 10 | int) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least shutdownDelaySeconds (%d) + 10: after the drain the exporter gives in-flight requests up to 10s before it exits" $grace $drain) }}
{{- end }}
{{- $grace }}
{{- end }}

{{/* Fleet mode: the headless Service that gives the shards their names. */}}
{{- define "dbhealth-exporter.headlessName" -}}
{{- printf "%s-shards" (include "dbhealth-exporter.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fleet mode: the ConfigMap holding the configuration file, and its key. */}}
{{- define "dbhealth-exporter.fleetConfigMap" -}}
{{- .Values.fleet.existingConfigMap | default (printf "%s-config" (include "dbhealth-exporter.fullname" .)) }}
{{- end }}

{{- define "dbhealth-exporter.fleetConfigKey" -}}
{{- if .Values.fleet.existingConfigMap }}
{{- .Values.fleet.existingConfigMapKey }}
{{- else }}
{{- "dbhealth.yml" }}
{{- end }}
{{- end }}

{{/*
Fleet mode: the configuration file's text, from fleet.config given as a
mapping or as the file's text (helm install --set-file fleet.config=...).
*/}}
{{- define "dbhealth-exporter.fleetConfigText" -}}
{{- if kindIs "string" .Values.fleet.config }}
{{- .Values.fleet.config }}
{{- else }}
{{- toYaml .Values.fleet.config }}
{{- end }}
{{- end }}
