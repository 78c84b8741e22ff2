// The shape a provisioned dashboard JSON must have, built from Grafana's own published types
// (@grafana/grafana-foundation-sdk, see ../VERSION). tests/observability/test_dashboards.py turns
// each dashboard into a .ts file whose panels are checked with `satisfies TypedPanel<"<type>">`
// and runs `tsc --noEmit`: unknown keys, misspelled options, wrong value types, unknown panel
// types and unknown units are compile errors.
//
// The SDK marks fields as required that Grafana itself fills with defaults (legend, tooltip,
// reduceOptions, ...), so every type is wrapped deep-optional (`Loose`). The fields this project
// requires (uid, title, gridPos, datasource, refId, expr, unit, ...) are checked by the pytest.

import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as gauge from "@grafana/grafana-foundation-sdk/gauge";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as statetimeline from "@grafana/grafana-foundation-sdk/statetimeline";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import * as units from "@grafana/grafana-foundation-sdk/units";

type IsAny<T> = 0 extends 1 & T ? true : false;
type IsMethod<T> = T extends (...args: never[]) => unknown ? true : false;

// Deep-optional; string enums become the union of their values (JSON holds "multi", not
// TooltipDisplayMode.Multi); numeric enums keep their members; methods disappear.
export type Loose<T> =
  IsAny<T> extends true ? any
  : T extends string ? (string extends T ? string : `${T}`)
  : T extends number | boolean | null | undefined ? T
  : T extends readonly (infer E)[] ? Loose<E>[]
  : T extends object ? { [K in keyof T as IsMethod<T[K]> extends true ? never : K]?: Loose<T[K]> }
  : T;

// Every unit id Grafana knows (the SDK's units module), plus its custom prefix/suffix units.
type UnitConstants = typeof units;
export type Unit = UnitConstants[keyof UnitConstants] | `suffix:${string}` | `prefix:${string}`;

// The alert list panel has no types in the SDK; these are Grafana 12's (public/app/plugins/panel/
// alertlist/types.ts, UnifiedAlertListOptions).
export interface AlertListOptions {
  maxItems: number;
  sortOrder: 1 | 2 | 3 | 4 | 5; // alpha asc, alpha desc, importance, time asc, time desc
  dashboardAlerts: boolean;
  groupMode: "default" | "custom";
  groupBy: string[];
  alertName: string;
  showInstances: boolean;
  folder: { uid: string; title: string };
  stateFilter: {
    firing: boolean;
    pending: boolean;
    recovering: boolean;
    noData: boolean;
    normal: boolean;
    error: boolean;
  };
  alertInstanceLabelFilter: string;
  datasource: string;
  viewMode: "list" | "stat";
  showInactiveAlerts: boolean;
}

// The modern panel types this project uses: options and fieldConfig.defaults.custom of each.
// A panel type missing here (graph, singlestat, table-old, ...) does not type-check.
interface PanelKinds {
  timeseries: { options: timeseries.Options; custom: timeseries.FieldConfig };
  stat: { options: stat.Options; custom: never };
  gauge: { options: gauge.Options; custom: never };
  table: { options: table.Options; custom: table.FieldConfig };
  "state-timeline": { options: statetimeline.Options; custom: statetimeline.FieldConfig };
  alertlist: { options: AlertListOptions; custom: never };
}
export type PanelType = keyof PanelKinds;

type CustomOf<K extends PanelType> = PanelKinds[K]["custom"];
type FieldDefaults<K extends PanelType> = Loose<Omit<dashboard.FieldConfig, "custom" | "unit">> & {
  unit?: Unit;
  custom?: [CustomOf<K>] extends [never] ? never : Loose<CustomOf<K>>;
};
// Override properties name a field option: "unit", "displayName", "custom.lineStyle", ...
type OverrideId<K extends PanelType> =
  | Exclude<keyof dashboard.FieldConfig, "custom">
  | ([CustomOf<K>] extends [never] ? never : `custom.${Extract<keyof CustomOf<K>, string>}`);

export type PrometheusQuery = Loose<Omit<prometheus.Dataquery, "_implementsDataqueryVariant">>;

export type TypedPanel<K extends PanelType> =
  Loose<Omit<dashboard.Panel, "type" | "options" | "fieldConfig" | "targets" | "datasource">> & {
    type: K;
    datasource?: Loose<common.DataSourceRef>;
    targets?: PrometheusQuery[];
    options?: Loose<PanelKinds[K]["options"]>;
    fieldConfig?: {
      defaults?: FieldDefaults<K>;
      overrides?: {
        matcher: Loose<dashboard.MatcherConfig>;
        properties: { id: OverrideId<K>; value?: unknown }[];
      }[];
    };
  };

export type RowDoc = Loose<Omit<dashboard.RowPanel, "panels">> & { type: "row"; panels?: [] };

export type DashboardDoc = Loose<Omit<dashboard.Dashboard, "panels">> & {
  // each panel is checked on its own, with `satisfies TypedPanel<...>` in the generated file
  panels?: unknown[];
};
