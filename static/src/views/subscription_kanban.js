import { registry } from "@web/core/registry";
import { KanbanHeader } from "@web/views/kanban/kanban_header";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { kanbanView } from "@web/views/kanban/kanban_view";

// A new subscription is always a draft (the server ignores the column's
// state): grouped by state, only the Draft column offers a quick create.
export class SubscriptionKanbanHeader extends KanbanHeader {
    canQuickCreate() {
        const { group, list } = this.props;
        return (
            super.canQuickCreate() &&
            (list.groupByField?.name !== "state" || group.value === "draft")
        );
    }
}

export class SubscriptionKanbanRenderer extends KanbanRenderer {
    static components = { ...KanbanRenderer.components, KanbanHeader: SubscriptionKanbanHeader };
}

registry.category("views").add("subscription_kanban", {
    ...kanbanView,
    Renderer: SubscriptionKanbanRenderer,
});
