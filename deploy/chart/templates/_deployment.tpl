{{/* One Deployment of the service; .role is the `serve --role` it runs. */}}
{{- define "ir.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ir.fullname" $root }}-{{ .component }}
  labels:
    {{- include "ir.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  revisionHistoryLimit: 5
  {{- if eq $v.backend "embedded" }}
  # One pod holds the SQLite data dir: never two at once, not even during a rollout.
  strategy:
    type: Recreate
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  {{- end }}
  selector:
    matchLabels:
      {{- include "ir.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "ir.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $v.port | quote }}
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {{ include "ir.fullname" $root }}
      # IRSA mounts its own projected web-identity token; nothing here talks to the Kubernetes API.
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .component }}
          image: {{ include "ir.image" $root | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: ["--port", {{ $v.port | quote }}, "--role", {{ .role | quote }}]
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          env:
            - {name: INCIDENT_RESPONSE_ROLE, value: {{ .role | quote }}}
            - {name: INCIDENT_RESPONSE_DATA_DIR, value: /data}
            # deployment.environment on every span and metric (i13-otel's setting)
            - {name: INCIDENT_RESPONSE_ENVIRONMENT, value: {{ $v.environment | quote }}}
            {{- with $v.telemetry.otlpEndpoint }}
            - {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ . | quote }}}
            {{- end }}
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
            - {name: OTEL_RESOURCE_ATTRIBUTES, value: "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)"}
            - {name: TMPDIR, value: /tmp}
            {{- range $name, $value := $v.config }}
            {{- if $value }}
            - {name: {{ $name }}, value: {{ $value | quote }}}
            {{- end }}
            {{- end }}
            {{- if eq $v.backend "aws" }}
            - {name: AWS_REGION, value: {{ $v.aws.region | quote }}}
            - {name: INCIDENTS_TABLE_NAME, value: {{ $v.aws.incidentsTableName | quote }}}
            - {name: AUDIT_TABLE_NAME, value: {{ $v.aws.auditTableName | quote }}}
            - {name: INCIDENT_EVENTS_QUEUE_URL, value: {{ $v.aws.incidentEventsQueueUrl | quote }}}
            - {name: SCHEDULER_ROLE_ARN, value: {{ $v.aws.schedulerRoleArn | quote }}}
            {{- with $v.aws.scheduleGroup }}
            - {name: INCIDENT_RESPONSE_SCHEDULE_GROUP, value: {{ . | quote }}}
            {{- end }}
            - {name: GRAFANA_ONCALL_HMAC_SECRET_ID, value: {{ printf "incident-response/%s/grafana-oncall-hmac" $v.environment | quote }}}
            {{- end }}
          {{- if $v.externalSecret.enabled }}
          envFrom:
            - secretRef:
                # not optional: a pod must not start before the first sync (on the embedded
                # default it would generate keys of its own into the data dir)
                name: {{ include "ir.secretName" $root }}
          {{- end }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          resources:
            {{- toYaml .resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            - {name: data, mountPath: /data}
            - {name: tmp, mountPath: /tmp}
      volumes:
        {{- if eq $v.backend "embedded" }}
        - name: data
          persistentVolumeClaim:
            claimName: {{ include "ir.fullname" $root }}-data
        {{- else }}
        - name: data
          emptyDir: {sizeLimit: 1Gi}
        {{- end }}
        - name: tmp
          emptyDir: {sizeLimit: 256Mi}
{{- end -}}
