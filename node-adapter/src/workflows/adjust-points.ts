import { createWorkflow, transform, when, WorkflowResponse } from "@medusajs/framework/workflows-sdk"
import { emitEventStep } from "@medusajs/medusa/core-flows"
import { adjustPointsStep, type AdjustPointsStepInput } from "./steps/adjust-points"

export const LOYALTY_POINTS_ADJUSTED = "loyalty.points.adjusted"

export const adjustPointsWorkflowId = "adjust-loyalty-points"

/**
 * Adjusts a customer's points in the loyalty service, then emits
 * `loyalty.points.adjusted` with { customer_id, delta, balance_after }, once
 * per adjustment: a replayed request (same idempotency key) emits nothing.
 */
export const adjustPointsWorkflow = createWorkflow(adjustPointsWorkflowId, (input: AdjustPointsStepInput) => {
  const result = adjustPointsStep(input)

  const eventData = transform({ result }, ({ result }) => ({
    customer_id: result.customer_id,
    delta: result.delta,
    balance_after: result.balance_after,
    adjustment_id: result.id,
  }))

  when({ result }, ({ result }) => !result.replayed).then(() => {
    emitEventStep({ eventName: LOYALTY_POINTS_ADJUSTED, data: eventData })
  })

  return new WorkflowResponse(result)
})
