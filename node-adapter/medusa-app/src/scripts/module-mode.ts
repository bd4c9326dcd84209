import { writeFileSync } from "fs"
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

/** Module-only install: `loyalty` resolves, calls reach the server, Query sees gift cards. */
export default async function moduleMode({ container }: ExecArgs) {
  const loyalty: any = container.resolve("loyalty")
  const query: any = container.resolve(ContainerRegistrationKeys.QUERY)
  const card = await loyalty.createGiftCards({ code: "module-mode-code", value: 5, currency_code: "usd" })
  const graph = await query.graph({
    entity: "gift_card",
    fields: ["id", "code"],
    filters: { code: "module-mode-code" },
    pagination: { skip: 0, take: 10 },
  })
  writeFileSync(process.env.LOYALTY_RESULT_FILE!, JSON.stringify({ card, graph: { data: graph.data, metadata: graph.metadata } }, null, 2))
}
