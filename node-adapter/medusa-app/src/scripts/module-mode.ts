import { writeFileSync } from "fs"
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

/**
 * Module-only install: `loyalty` and `store_credit` resolve, calls reach the
 * server, Query sees gift cards and store credit accounts.
 */
export default async function moduleMode({ container }: ExecArgs) {
  const loyalty: any = container.resolve("loyalty")
  const storeCredit: any = container.resolve("store_credit")
  const query: any = container.resolve(ContainerRegistrationKeys.QUERY)
  const card = await loyalty.createGiftCards({ code: "module-mode-code", value: 5, currency_code: "usd" })
  const graph = await query.graph({
    entity: "gift_card",
    fields: ["id", "code"],
    filters: { code: "module-mode-code" },
    pagination: { skip: 0, take: 10 },
  })
  const account = await storeCredit.createStoreCreditAccounts({ code: "SC-MODULE-MODE", currency_code: "usd" })
  await storeCredit.creditAccounts([{ account_id: account.id, amount: "2.5", reference: "order", reference_id: "order_module_mode" }])
  const accounts = await query.graph({
    entity: "store_credit_account",
    fields: ["id", "code", "balance"],
    filters: { code: "SC-MODULE-MODE" },
  })
  writeFileSync(
    process.env.LOYALTY_RESULT_FILE!,
    JSON.stringify({ card, graph: { data: graph.data, metadata: graph.metadata }, account, accounts: accounts.data }, null, 2)
  )
}
