import { appendFileSync } from "fs"
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

/** Records every loyalty.points.adjusted event so the tests can see it fired. */
export default async function recordPointsAdjusted({ event }: SubscriberArgs<Record<string, unknown>>) {
  const file = process.env.LOYALTY_EVENTS_FILE
  if (file) {
    appendFileSync(file, JSON.stringify({ name: event.name, data: event.data }) + "\n")
  }
}

export const config: SubscriberConfig = {
  event: "loyalty.points.adjusted",
}
