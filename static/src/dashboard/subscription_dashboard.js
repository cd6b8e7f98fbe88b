// Copyright 2026 subscription_billing contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";

// Movements of a month, stacked in the bar chart (the currency effect aside).
const MOVEMENTS = [
    ["new_amount", "#28a745"],
    ["expansion_amount", "#17a2b8"],
    ["reactivation_amount", "#6f42c1"],
    ["contraction_amount", "#fd7e14"],
    ["churn_amount", "#dc3545"],
];

/**
 * Subscription analytics: KPI cards, the MRR month by month and its
 * movements, from the monthly MRR snapshots
 * (``subscription.kpi.dashboard.get_dashboard_data``).
 */
export class SubscriptionDashboard extends Component {
    static template = "subscription_billing.SubscriptionDashboard";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, months: 12, filters: {} });
        this.mrrCanvas = useRef("mrrChart");
        this.movesCanvas = useRef("movesChart");
        this.charts = [];
        onWillStart(async () => {
            await Promise.all([loadBundle("web.chartjs_lib"), this.load()]);
        });
        useEffect(
            () => this.renderCharts(),
            () => [this.state.data]
        );
        onWillUnmount(() => this.destroyCharts());
    }

    get display() {
        return { controlPanel: {} };
    }

    get labels() {
        return {
            notAvailable: _t("Not available"),
            movements: {
                new_amount: _t("New"),
                expansion_amount: _t("Expansion"),
                reactivation_amount: _t("Reactivation"),
                contraction_amount: _t("Contraction"),
                churn_amount: _t("Churn"),
            },
        };
    }

    get periodOptions() {
        return [3, 6, 12, 24].map((months) => ({
            months,
            label: _t("Last %s months", months),
        }));
    }

    async load() {
        this.state.data = await this.orm.call("subscription.kpi.dashboard", "get_dashboard_data", [], {
            months: this.state.months,
            filters: this.state.filters,
        });
    }

    async onPeriodChange(ev) {
        this.state.months = parseInt(ev.target.value);
        await this.load();
    }

    async onFilterChange(name, ev) {
        const id = parseInt(ev.target.value);
        this.state.filters = { ...this.state.filters, [name]: id ? [id] : [] };
        await this.load();
    }

    openReport(xmlid) {
        this.action.doAction(xmlid);
    }

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }

    renderCharts() {
        this.destroyCharts();
        const data = this.state.data;
        if (!data || !data.has_data || !this.mrrCanvas.el || !this.movesCanvas.el) {
            return;
        }
        const labels = data.lines.map((line) => line.short);
        const common = {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { position: "bottom" } },
        };
        this.charts.push(
            new Chart(this.mrrCanvas.el, {
                type: "line",
                data: {
                    labels,
                    datasets: [
                        {
                            label: _t("MRR"),
                            data: data.lines.map((line) => line.mrr),
                            borderColor: "#714b67",
                            backgroundColor: "rgba(113, 75, 103, 0.15)",
                            fill: true,
                            tension: 0.2,
                        },
                    ],
                },
                options: { ...common, plugins: { legend: { display: false } } },
            })
        );
        this.charts.push(
            new Chart(this.movesCanvas.el, {
                type: "bar",
                data: {
                    labels,
                    datasets: MOVEMENTS.map(([field, color]) => ({
                        label: this.labels.movements[field],
                        data: data.lines.map((line) => line[field]),
                        backgroundColor: color,
                    })),
                },
                options: {
                    ...common,
                    scales: { x: { stacked: true }, y: { stacked: true } },
                },
            })
        );
    }
}

registry.category("actions").add("subscription_billing.kpi_dashboard", SubscriptionDashboard);
