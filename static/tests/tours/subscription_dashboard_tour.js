import { registry } from "@web/core/registry";

// The analytics dashboard: its KPI cards and its two charts, and nothing
// wider than the window (desktop and phone).
registry.category("web_tour.tours").add("subscription_dashboard_tour", {
    url: "/odoo/action-subscription_billing.subscription_kpi_dashboard_client_action",
    steps: () => [
        {
            content: "The MRR card shows an amount",
            trigger: ".o_sb_kpi[data-kpi=mrr] .o_sb_kpi_value:contains(30.00)",
        },
        {
            content: "A ratio without a base is not available, not 0 %",
            trigger: ".o_sb_kpi[data-kpi=recovery] .o_sb_kpi_na:contains(Not available)",
        },
        {
            content: "The MRR chart is drawn",
            trigger: ".o_sb_chart canvas.o_sb_chart_mrr",
        },
        {
            content: "The movements chart is drawn",
            trigger: ".o_sb_chart canvas.o_sb_chart_moves",
        },
        {
            content: "Nothing overflows the window horizontally",
            trigger: ".o_sb_months",
            run() {
                const width = document.documentElement.scrollWidth;
                if (width > window.innerWidth + 1) {
                    throw new Error(
                        `The page is ${width}px wide for a ${window.innerWidth}px window`
                    );
                }
            },
        },
        {
            content: "Another period reloads the figures",
            trigger: "select.o_sb_dashboard_period",
            run: "select 3",
        },
        {
            content: "The figures of the last 3 months are shown",
            trigger: ".o_sb_dashboard[data-months='3'] .o_sb_kpi[data-kpi=mrr]",
        },
    ],
});
