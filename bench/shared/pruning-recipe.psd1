# The pruning recipe bench/accuracy.ps1 and bench/compression.ps1 share (read with
# Import-PowerShellDataFile): LeNet-300-100, a short dense pre-training, then gradual pruning
# during training. Chosen by a search on this machine; README's accuracy section says why.
# Quick: the same paths on Digits in seconds, for build.ps1 test.
@{
    Full  = @{
        Widths               = @(784, 300, 100, 10)
        BatchSize            = 128
        DenseEpochs          = 5
        PruneEpochs          = 45
        UpdateEvery          = 20
        RampFraction         = 0.5
        LearningRate         = 0.001
        LearningRateSchedule = 'Constant'
    }
    Quick = @{
        Widths               = @(64, 300, 100, 10)
        BatchSize            = 64
        DenseEpochs          = 3
        PruneEpochs          = 3
        UpdateEvery          = 10
        RampFraction         = 0.5
        LearningRate         = 0.001
        LearningRateSchedule = 'Constant'
    }
}
