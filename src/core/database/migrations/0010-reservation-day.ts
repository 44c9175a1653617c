/**
 * The UTC day (`YYYY-MM-DD`) a hold also counts against, when the plan has a daily allowance: settling gives
 * back or charges that day's counter as well, even when the hold settles after midnight. Null: no daily hold.
 */
export const reservationDaySchema = `
ALTER TABLE reservations ADD COLUMN day TEXT;
`;
