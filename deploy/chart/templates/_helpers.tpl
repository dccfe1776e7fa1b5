{{/* Names and labels. */}}
{{- define "ir.name" -}}incident-response{{- end -}}

{{- define "ir.fullname" -}}
{{- if contains "incident-response" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-incident-response" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ir.labels" -}}
app.kubernetes.io/name: {{ include "ir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agents.platform
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
incident-response/environment: {{ .Values.environment }}
{{- end -}}

{{- define "ir.selector" -}}
app.kubernetes.io/name: {{ include "ir.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The component the Service sends HTTP to: the webhook role on aws, the single all-role pod
     on the embedded default. */}}
{{- define "ir.httpComponent" -}}
{{- if eq .Values.backend "aws" -}}webhook{{- else -}}processor{{- end -}}
{{- end -}}

{{- define "ir.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{- if or (not .Values.image.tag) (eq (toString .Values.image.tag) "latest") -}}
{{- fail "image.tag must be a pinned release tag (not empty, not latest), or set image.digest" -}}
{{- end -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "ir.secretName" -}}{{ include "ir.fullname" . }}-secrets{{- end -}}

{{/* Fail early on values that would deploy something broken. */}}
{{- define "ir.validate" -}}
{{- if not (has .Values.environment (list "development" "staging" "production")) -}}
{{- fail (printf "environment must be development, staging or production, not %q" .Values.environment) -}}
{{- end -}}
{{- if not (has .Values.backend (list "embedded" "aws")) -}}
{{- fail (printf "backend must be embedded or aws, not %q" .Values.backend) -}}
{{- end -}}
{{- if eq .Values.backend "aws" -}}
{{- range $key := list "platformRoleArn" "incidentsTableName" "auditTableName" "incidentEventsQueueUrl" "schedulerRoleArn" "region" -}}
{{- if not (index $.Values.aws $key) -}}
{{- fail (printf "backend aws needs aws.%s (incident-response aws bootstrap prints it)" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
