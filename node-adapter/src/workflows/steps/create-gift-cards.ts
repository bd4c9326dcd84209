import { createStep, StepResponse } from "@medusajs/framework/workflows-sdk"
import { LOYALTY_MODULE } from "../../modules/loyalty/joiner"
import type LoyaltyModuleService from "../../modules/loyalty/service"

export type CreateGiftCardsStepInput = Record<string, any>[]

export const createGiftCardsStepId = "create-gift-cards"

/**
 * Creates gift cards in the loyalty service (a code is generated there when
 * none is given). Compensation deletes the cards it created.
 */
export const createGiftCardsStep = createStep(
  createGiftCardsStepId,
  async (input: CreateGiftCardsStepInput, { container }) => {
    const loyalty = container.resolve<LoyaltyModuleService>(LOYALTY_MODULE)
    const giftCards = await loyalty.createGiftCards(input)
    return new StepResponse(
      giftCards,
      giftCards.map((gc) => gc.id)
    )
  },
  async (ids: string[] | undefined, { container }) => {
    if (!ids?.length) {
      return
    }
    const loyalty = container.resolve<LoyaltyModuleService>(LOYALTY_MODULE)
    await loyalty.deleteGiftCards(ids)
  }
)
