export * from "./steps/create-gift-cards"
export * from "./steps/adjust-points"
export * from "./adjust-points"
export * from "./cart-points"
