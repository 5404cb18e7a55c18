namespace SparsePrune;

public enum PruneSchedule { OneShot, Iterative, Gradual, LotteryTicket }
